"""Segment definitions: only documented non-personal fields, values as parameters, and errors
that name the file, the line and the field."""

import duckdb
import pytest

from activation.segments import SegmentError, load_segment, load_segments

FIELDS = {"ladder_rung": "text", "trust_score": "number", "is_member": "boolean", "city": "text"}

GOOD = """\
name: loyal_shanghai
description: Members in Shanghai with trust of 60 or more.
owner: crm-team
channel: sms
rule:
  all:
    - {field: is_member, op: eq, value: true}
    - {field: city, op: eq, value: 上海}
    - any:
        - {field: trust_score, op: gte, value: 60}
        - not: {field: ladder_rung, op: in, value: [prospect, customer]}
"""


def write(tmp_path, text: str, name: str = "segment.yml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def members(segment) -> list[str]:
    """Run the segment's query on four hand-made fans."""
    with duckdb.connect() as conn:
        conn.execute("create schema marts")
        conn.execute("""create table marts.fan_360 as select * from (values
            ('A', true, '上海', 70.0, 'fan', true),
            ('B', true, '上海', 40.0, 'user', true),
            ('C', true, '上海', 40.0, 'customer', true),
            ('D', false, '上海', 90.0, 'fan', true),
            ('E', true, '上海', 90.0, 'fan', false))
            as t(fan_id, is_member, city, trust_score, ladder_rung, is_sms_contactable)""")
        return sorted(r[0] for r in conn.execute(segment.member_query(), list(segment.params)).fetchall())


def test_a_rule_selects_by_hand_computed_membership(tmp_path):
    segment = load_segment(write(tmp_path, GOOD), FIELDS)
    assert segment.contact_data == "hashed"  # the default
    # A: trust 70; B: trust 40 but a user (not prospect/customer); C: customer with trust 40 is
    # out; D is no member; E matches but gave no SMS consent
    assert members(segment) == ["A", "B"]


def test_sql_in_a_value_is_only_a_value(tmp_path):
    hostile = GOOD.replace("value: 上海", 'value: "上海\' or 1=1 --"')
    segment = load_segment(write(tmp_path, hostile), FIELDS)
    assert "1=1" not in segment.where_sql
    assert members(segment) == []  # no city is called that


@pytest.mark.parametrize(
    ("change", "line", "field", "problem"),
    [
        (("field: city", "field: phone"), 8, "rule.all[1].field", "'phone' is not a documented non-personal"),
        (("field: city", 'field: "city\\" or 1=1 --"'), 8, "rule.all[1].field", "is not a documented"),
        (("name: loyal_shanghai", "name: ../../etc/passwd"), 1, "name", "lower-case letters"),
        (("channel: sms", "channel: fax"), 4, "channel", "must be one of wechat, sms, email"),
        (("op: gte, value: 60", "op: gte, value: sixty"), 10, "rule.all[2].any[0].value", "'sixty' is not a number"),
        (("op: eq, value: true", "op: lt, value: true"), 7, "rule.all[0].op", "'lt' does not apply to a boolean"),
        (("owner: crm-team\n", "owner: crm-team\nsql: drop table fans\n"), 4, "sql", "unknown key"),
    ],
)
def test_a_bad_definition_names_file_line_and_field(tmp_path, change, line, field, problem):
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(SegmentError) as error:
        load_segment(path, FIELDS)
    assert (error.value.path, error.value.line, error.value.field) == (path, line, field)
    assert problem in error.value.problem
    assert str(error.value).startswith(f"{path}, line {line}, field '{field}'")


def test_the_other_segments_still_build(tmp_path):
    write(tmp_path, GOOD, "a_good.yml")
    write(tmp_path, GOOD.replace("field: city", "field: email"), "b_bad.yml")
    write(tmp_path, "frequency_cap: {max_contacts: 1, per_days: 7}\n", "_policy.yml")
    segments, errors = load_segments(tmp_path, FIELDS)
    assert [s.name for s in segments] == ["loyal_shanghai"]
    assert [(e.path.name, e.field) for e in errors] == [("b_bad.yml", "rule.all[1].field")]


def test_two_files_with_one_name_are_both_refused(tmp_path):
    write(tmp_path, GOOD, "one.yml")
    write(tmp_path, GOOD, "two.yml")
    segments, errors = load_segments(tmp_path, FIELDS)
    assert segments == [] and sorted(e.path.name for e in errors) == ["one.yml", "two.yml"]
