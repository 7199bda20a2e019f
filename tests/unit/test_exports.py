"""Segment exports on a hand-made fan_360: consent, the frequency cap, entered/left, the files,
and a crash that leaves the previous exports as they were."""

import hashlib
import json
from datetime import date, datetime, timedelta
from decimal import Decimal

import duckdb
import polars as pl
import pytest

import activation.exports
from activation.exports import (
    FrequencyCap,
    PolicyError,
    export_segments,
    load_cap,
    plan_contacts,
    safe_folder,
    write_sheet,
)
from activation.segments import load_segment
from common.errors import UserError
from scrm.pipeline import delivery_summary

FIELDS = {"ladder_rung": "text", "trust_score": "number", "city": "text"}
DAY = datetime(2026, 11, 1, 9, 0)
ONCE_A_WEEK = FrequencyCap(max_contacts=1, per_days=7)


def definition(tmp_path, name: str, rule: str, channel: str = "sms", extra: str = "") -> object:
    path = tmp_path / f"{name}.yml"
    path.write_text(
        f"name: {name}\ndescription: test\nowner: t\nchannel: {channel}\n{extra}rule: {rule}\n", encoding="utf-8"
    )
    return load_segment(path, FIELDS)


@pytest.fixture
def conn():
    with duckdb.connect() as conn:
        conn.execute("create schema marts")
        conn.execute("""create table marts.fan_360 as select * from (values
            ('A', '13800001111', 'oA', 'fan', 80.0, true, true),
            ('B', '13800002222', 'oB', 'fan', 70.0, false, false),
            ('C', '13800003333', 'oC', 'user', 75.0, false, true))
            as t(fan_id, phone, wechat_openid, ladder_rung, trust_score, is_sms_contactable, is_wechat_contactable)""")
        conn.execute("alter table marts.fan_360 add column email varchar")
        yield conn


def run(conn, segments, export_dir, run_id, when, cap=ONCE_A_WEEK):
    return {r["segment"]: r for r in export_segments(conn, segments, export_dir, run_id, when, cap, progress=print)}


def test_opted_out_fans_are_never_exported_and_contact_data_is_hashed(conn, tmp_path):
    fans = definition(tmp_path, "fans", "{field: ladder_rung, op: eq, value: fan}")
    result = run(conn, [fans], tmp_path / "exports", "run00001", DAY)["fans"]
    # A and B are fans, but B gave no SMS consent (and C, who consented, is a user)
    assert result["counts"] == {"members": 1, "exported": 1, "capped": 0, "entered": 1, "left": 0}
    csv = (tmp_path / "exports" / "fans").glob("*/fans.csv").__next__()
    assert csv.read_bytes().startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for Chinese
    rows = pl.read_csv(csv)
    assert rows.to_dicts() == [{"fan_id": "A", "phone_sha256": hashlib.sha256(b"13800001111").hexdigest()}]
    manifest = json.loads((csv.parent / "manifest.json").read_text())
    assert manifest["files"]["fans.csv"]["sha256"] == hashlib.sha256(csv.read_bytes()).hexdigest()
    assert (csv.parent.parent / "LATEST").read_text().strip() == csv.parent.name


def test_masked_and_raw_only_when_the_definition_says_so(conn, tmp_path):
    masked = definition(
        tmp_path, "masked", "{field: trust_score, op: gte, value: 80}", "wechat", "contact_data: masked\n"
    )
    raw = definition(tmp_path, "raw", "{field: trust_score, op: gte, value: 80}", "wechat", "contact_data: raw\n")
    cap = FrequencyCap(max_contacts=5, per_days=7)
    run(conn, [masked, raw], tmp_path / "x", "run00001", DAY, cap)
    assert pl.read_csv(next((tmp_path / "x" / "masked").glob("*/masked.csv"))).row(0) == (
        "A",
        "138****1111",
        "h:" + hashlib.sha256(b"oA").hexdigest()[:16],
    )
    assert pl.read_csv(next((tmp_path / "x" / "raw").glob("*/raw.csv")), schema_overrides={"phone": pl.String}).row(
        0
    ) == ("A", "13800001111", "oA")


def test_frequency_cap_across_segments_and_days(conn, tmp_path):
    first = definition(tmp_path, "first", "{field: trust_score, op: gte, value: 70}", "wechat", "priority: 1\n")
    second = definition(tmp_path, "second", "{field: ladder_rung, op: eq, value: fan}", "wechat", "priority: 2\n")
    exports = tmp_path / "exports"
    # cap 1 per 7 days. Day 0: A and C are in `first`; A (and B, who refused WeChat) match `second`,
    # but A was already exported today: capped there
    day0 = run(conn, [first, second], exports, "run00001", DAY)
    assert (day0["first"]["counts"]["exported"], day0["second"]["counts"]["exported"]) == (2, 0)
    assert day0["second"]["counts"]["capped"] == 1
    # day 3: everyone was contacted within 7 days
    day3 = run(conn, [first, second], exports, "run00002", DAY + timedelta(days=3))
    assert day3["first"]["counts"]["capped"] == 2 and day3["second"]["counts"]["capped"] == 1
    # day 8: the window has passed
    day8 = run(conn, [first, second], exports, "run00003", DAY + timedelta(days=8))
    assert day8["first"]["counts"]["exported"] == 2


def test_entered_and_left_since_the_last_export(conn, tmp_path):
    rich = definition(tmp_path, "rich", "{field: trust_score, op: gte, value: 75}", "wechat")
    cap = FrequencyCap(max_contacts=9, per_days=1)
    run(conn, [rich], tmp_path / "e", "run00001", DAY, cap)  # A (80) and C (75)
    conn.execute("update marts.fan_360 set trust_score = 60 where fan_id = 'C'")
    conn.execute("update marts.fan_360 set trust_score = 90, is_wechat_contactable = true where fan_id = 'B'")
    result = run(conn, [rich], tmp_path / "e", "run00002", DAY + timedelta(days=1), cap)["rich"]
    assert result["counts"] == {"members": 2, "exported": 2, "capped": 0, "entered": 1, "left": 1}
    changes = pl.read_csv(next(p for p in (tmp_path / "e" / "rich").glob("*_run00002/changes.csv")))
    assert sorted(changes.rows()) == [("B", "entered"), ("C", "left")]


def test_a_crash_during_export_leaves_the_previous_exports_as_they_were(conn, tmp_path, monkeypatch):
    one = definition(tmp_path, "one", "{field: trust_score, op: gte, value: 70}", "wechat")
    two = definition(tmp_path, "two", "{field: ladder_rung, op: eq, value: fan}", "wechat")
    exports = tmp_path / "exports"
    cap = FrequencyCap(max_contacts=9, per_days=1)
    run(conn, [one, two], exports, "run00001", DAY, cap)
    before = {p: p.read_bytes() for p in exports.rglob("*") if p.is_file()}
    log_before = conn.execute("select count(*) from segments.contact_log").fetchone()

    write = activation.exports._write_files

    def crash_on_two(conn_, segment, *args):
        if segment.name == "two":
            raise OSError("disk full")
        return write(conn_, segment, *args)

    monkeypatch.setattr(activation.exports, "_write_files", crash_on_two)
    with pytest.raises(OSError, match="disk full"):
        run(conn, [one, two], exports, "run00002", DAY + timedelta(days=1), cap)
    after = {p: p.read_bytes() for p in exports.rglob("*") if p.is_file()}
    assert after == before  # no half folder, no new folder for `one`, LATEST untouched
    assert conn.execute("select count(*) from segments.contact_log").fetchone() == log_before
    assert conn.execute("select count(*) from segments.exports where run_id = 'run00002'").fetchone() == (0,)


@pytest.mark.parametrize("name", ["../outside", "/etc", "a/../../b", ".."])
def test_export_names_cannot_leave_the_export_folder(tmp_path, name):
    with pytest.raises(ValueError, match="would leave the export folder"):
        safe_folder(tmp_path, name)


def test_a_segment_that_matches_nobody_exports_an_empty_file_and_the_others_still_export(conn, tmp_path):
    # issue 12 item 1: an empty membership snapshot used to fail with "filter predicate must be
    # of type Boolean, got Null", and no segment was exported at all
    nobody = definition(tmp_path, "nobody", "{field: ladder_rung, op: eq, value: lhasa}", "wechat")
    fans = definition(tmp_path, "fans", "{field: ladder_rung, op: eq, value: fan}", "wechat")
    result = run(conn, [nobody, fans], tmp_path / "exports", "run00001", DAY)
    assert result["nobody"]["counts"] == {"members": 0, "exported": 0, "capped": 0, "entered": 0, "left": 0}
    assert result["fans"]["counts"]["exported"] == 1  # A (B refused WeChat)
    folder = next((tmp_path / "exports" / "nobody").glob("*_run00001"))
    csv = folder / "nobody.csv"
    assert pl.read_csv(csv).columns == ["fan_id", "phone_sha256", "wechat_openid_sha256"]
    assert pl.read_csv(csv).height == 0 and pl.read_parquet(folder / "nobody.parquet").height == 0
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["files"]["nobody.csv"]["rows"] == 0
    assert manifest["files"]["nobody.csv"]["sha256"] == hashlib.sha256(csv.read_bytes()).hexdigest()


def test_each_export_has_a_spreadsheet_with_the_same_rows(conn, tmp_path):
    # issue 12 item 12: LibreOffice ignores the CSV's BOM (南京 became å—äº¬): an .xlsx opens right
    from openpyxl import load_workbook

    conn.execute("alter table marts.fan_360 add column city varchar")
    conn.execute("update marts.fan_360 set city = '南京'")
    fans = definition(tmp_path, "fans", "{field: trust_score, op: gte, value: 70}", "wechat", "include: [city]\n")
    nobody = definition(tmp_path, "nobody", "{field: trust_score, op: gt, value: 100}", "wechat")
    run(conn, [fans, nobody], tmp_path / "x", "run00001", DAY, FrequencyCap(max_contacts=9, per_days=1))
    for name in ("fans", "nobody"):
        folder = next((tmp_path / "x" / name).glob("*_run00001"))
        sheet = load_workbook(folder / f"{name}.xlsx", read_only=True).active
        cells = [list(row) for row in sheet.iter_rows(values_only=True)]
        csv = pl.read_csv(folder / f"{name}.csv")
        parquet = pl.read_parquet(folder / f"{name}.parquet")
        assert cells[0] == csv.columns == parquet.columns, name
        assert cells[1:] == [list(r) for r in parquet.rows()], name
        manifest = json.loads((folder / "manifest.json").read_text())
        entry = manifest["files"][f"{name}.xlsx"]
        assert entry["sha256"] == hashlib.sha256((folder / f"{name}.xlsx").read_bytes()).hexdigest()
        assert entry["rows"] == csv.height
    assert cells and csv.height == 0  # nobody: a header and no rows
    folder = next((tmp_path / "x" / "fans").glob("*_run00001"))
    first = list(load_workbook(folder / "fans.xlsx", read_only=True).active.iter_rows(values_only=True))[1]
    assert first[0] == "A" and first[-1] == "南京"


def test_a_forgotten_fan_leaves_the_history_and_is_recorded_once(conn, tmp_path):
    # A and C are exported on WeChat (B unsubscribed): both have history. A is forgotten on the
    # second day, C on the third; the forgotten table says when each was forgotten
    everyone = definition(tmp_path, "everyone", "{field: trust_score, op: gte, value: 0}", "wechat")
    cap = FrequencyCap(max_contacts=9, per_days=7)
    run(conn, [everyone], tmp_path / "x", "run00001", DAY, cap)

    def history(fan: str) -> list[int]:
        return [
            conn.execute(f"select count(*) from segments.{t} where fan_id = ?", [fan]).fetchone()[0]
            for t in ("memberships", "contact_log")
        ]

    assert history("A") == history("C") == [1, 1]
    conn.execute("delete from marts.fan_360 where fan_id = 'A'")  # the erasure reaches the marts first
    second, third = DAY + timedelta(days=1), DAY + timedelta(days=2)
    export_segments(conn, [everyone], tmp_path / "x", "run00002", second, cap, progress=print, forget=("A",))
    assert history("A") == [0, 0] and history("C") == [2, 2]
    conn.execute("delete from marts.fan_360 where fan_id = 'C'")
    export_segments(conn, [everyone], tmp_path / "x", "run00003", third, cap, progress=print, forget=("A", "C", "C"))
    assert history("A") == history("C") == [0, 0]
    assert conn.execute("select fan_id, forgotten_at from segments.forgotten order by 1").fetchall() == [
        ("A", second),
        ("C", third),
    ]


def test_a_spreadsheet_keeps_every_value_as_it_is_and_never_runs_one(tmp_path):
    # a name or note typed as a formula must stay text in the marketer's spreadsheet
    from openpyxl import load_workbook

    rows = pl.DataFrame(
        {
            "fan_id": ["A", "B", "C"],
            "note": ['=HYPERLINK("http://x","y")', "http://example.com", None],
            "visits": [3, None, 0],
            "score": [12.5, 0.0, None],
            "is_member": [True, False, None],
            "seen_on": [date(2026, 1, 2), None, date(2026, 12, 31)],
            # DuckDB's sums of money and counts arrive as decimals: a writer left them empty
            "spend": pl.Series([Decimal("12.50"), Decimal("0"), None], dtype=pl.Decimal(38, 2)),
        }
    )
    write_sheet(rows, tmp_path / "x.xlsx", "fans")
    book = load_workbook(tmp_path / "x.xlsx")
    sheet = book["fans"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:G4"
    cells = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert cells[0] == rows.columns
    assert [cell.data_type for cell in sheet[2][:2]] == ["s", "s"]  # text, not a formula
    assert cells[1][:5] == ["A", '=HYPERLINK("http://x","y")', 3, 12.5, True]
    assert cells[2][:5] == ["B", "http://example.com", None, 0, False]
    assert cells[3][:5] == ["C", None, 0, None, None]
    assert [row[5] for row in cells[1:]] == [datetime(2026, 1, 2), None, datetime(2026, 12, 31)]
    assert [row[6] for row in cells[1:]] == [12.5, 0, None]


def test_a_segment_too_big_for_one_sheet_leaves_the_spreadsheet_out_and_says_why(conn, tmp_path, monkeypatch):
    # a spreadsheet writer refuses (or cuts off) rows beyond 1,048,575: a big segment stops the
    # export, so the .xlsx is left out and the CSV and Parquet hold every row
    monkeypatch.setattr(activation.exports, "SHEET_ROWS", 1)
    # on WeChat A and C can be contacted (B unsubscribed): two rows, then A alone
    everyone = definition(tmp_path, "everyone", "{field: trust_score, op: gte, value: 0}", "wechat")
    one = definition(tmp_path, "one", "{field: trust_score, op: gte, value: 80}", "wechat")
    run(conn, [everyone, one], tmp_path / "x", "run00001", DAY, FrequencyCap(max_contacts=9, per_days=1))
    big = next((tmp_path / "x" / "everyone").glob("*_run00001"))
    manifest = json.loads((big / "manifest.json").read_text())
    assert not (big / "everyone.xlsx").exists()
    assert manifest["files"]["everyone.xlsx"] == {"left_out": "2 rows do not fit one sheet (1)"}
    assert manifest["files"]["everyone.csv"]["rows"] == pl.read_parquet(big / "everyone.parquet").height == 2
    small = next((tmp_path / "x" / "one").glob("*_run00001"))
    assert json.loads((small / "manifest.json").read_text())["files"]["one.xlsx"]["rows"] == 1


def test_the_contact_plan_caps_each_fan_across_segments():
    # computed by hand: cap 2 per window; A was contacted twice already, B once, C never
    cap = FrequencyCap(max_contacts=2, per_days=7)
    contacts = {"A": 2, "B": 1}
    assert plan_contacts({"C", "B", "A"}, contacts, cap) == (["B", "C"], ["A"])
    assert contacts == {"A": 2, "B": 2, "C": 1}
    # the next segment in priority order sees this one's contacts
    assert plan_contacts({"A", "B", "C", "D"}, contacts, cap) == (["C", "D"], ["A", "B"])
    assert plan_contacts(set(), contacts, cap) == ([], [])


@pytest.mark.parametrize(
    ("policy", "key"),
    [
        ("frequency_cap:\n  max: 2\n", "'frequency_cap.max': unknown key"),
        ("frequency_cap:\n  max_contacts: 0\n", "'frequency_cap.max_contacts': must be a whole number"),
        ("frequency_cap: 3\n", "'frequency_cap' must be a mapping"),
        ("frequency_cap: [\n", "not valid YAML"),
    ],
)
def test_a_bad_policy_names_the_file_and_the_key(tmp_path, policy, key):
    # issue 13 item 6: `max: 2` used to raise a bare TypeError
    (tmp_path / "_policy.yml").write_text(policy)
    with pytest.raises(PolicyError, match=key) as error:
        load_cap(tmp_path)
    assert "_policy.yml" in str(error.value) and isinstance(error.value, UserError)


def test_the_run_summary_names_exports_written_under_another_export_folder(conn, tmp_path, monkeypatch):
    # a run that fails before its exports prints the last ones; the setting may have moved since
    rich = definition(tmp_path, "rich", "{field: trust_score, op: gte, value: 75}", "wechat")
    run(conn, [rich], tmp_path / "before", "run00001", DAY)
    monkeypatch.setenv("SCRM_EXPORT_DIR", str(tmp_path / "now"))
    monkeypatch.setenv("SCRM_SERVING_PATH", str(tmp_path / "no_copy.duckdb"))
    lines = delivery_summary(conn)
    assert lines[0] == f"segment exports under {tmp_path / 'now'}:"
    assert lines[1].split()[:2] == ["rich", "2"]
    assert lines[1].endswith(str(next((tmp_path / "before" / "rich").glob("*_run00001"))))


def test_a_value_too_long_for_one_cell_leaves_the_spreadsheet_out_and_says_why(conn, tmp_path):
    # a spreadsheet cell holds 32,767 characters and the writer refuses a longer value, which
    # failed every segment's export: the .xlsx is left out and the CSV and Parquet hold the value
    conn.execute("alter table marts.fan_360 add column city varchar")
    conn.execute("update marts.fan_360 set city = repeat('南', 32768) where fan_id = 'A'")
    fans = definition(tmp_path, "fans", "{field: trust_score, op: gte, value: 70}", "wechat", "include: [city]\n")
    run(conn, [fans], tmp_path / "x", "run00001", DAY, FrequencyCap(max_contacts=9, per_days=1))
    folder = next((tmp_path / "x" / "fans").glob("*_run00001"))
    manifest = json.loads((folder / "manifest.json").read_text())
    assert not (folder / "fans.xlsx").exists()
    assert manifest["files"]["fans.xlsx"] == {"left_out": "a value of 32,768 characters does not fit one cell (32,767)"}
    assert pl.read_parquet(folder / "fans.parquet")["city"].str.len_chars().max() == 32768
