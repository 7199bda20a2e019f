"""Segment definitions: YAML files a marketer writes, turned into a parameterised query on
marts.fan_360. Only documented, non-personal fields may be used and every value is a query
parameter, so a definition cannot inject SQL; a bad definition raises SegmentError naming the
file, the line and the field."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from activation.privacy import documented_columns
from common.errors import UserError

NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
# channel -> (consent column, contact column)
CHANNELS = {
    "wechat": ("is_wechat_contactable", "wechat_openid"),
    "sms": ("is_sms_contactable", "phone"),
    "email": ("is_email_contactable", "email"),
}
CONTACT_FORMS = ("hashed", "masked", "raw")
KEYS = {"name", "description", "owner", "channel", "contact_data", "rule", "include", "priority"}
COMPARE = {"eq": "=", "ne": "!=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
OPERATORS = {
    "number": {*COMPARE, "in", "not_in", "between", "is_null", "is_not_null"},
    "text": {"eq", "ne", "in", "not_in", "is_null", "is_not_null"},
    "boolean": {"eq", "ne", "is_null", "is_not_null"},
}


class SegmentError(UserError, ValueError):
    """A definition that cannot be used: the file, the line and the field, and why."""

    def __init__(self, path: Path, line: int | None, field: str, problem: str):
        self.path, self.line, self.field, self.problem = Path(path), line, field, problem
        where = f"{self.path}" + (f", line {line}" if line else "")
        super().__init__(f"{where}, field '{field}': {problem}")


class _Mapping(dict):
    """A YAML mapping that remembers the line of each key."""

    line: int = 0
    key_lines: dict


class _Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _Mapping:
    mapping = _Mapping(loader.construct_mapping(node, deep=True))
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {key.value: key.start_mark.line + 1 for key, _ in node.value}
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


@dataclass(frozen=True)
class Segment:
    name: str
    description: str
    owner: str
    channel: str
    contact_data: str
    include: tuple[str, ...]
    priority: int
    where_sql: str
    params: tuple
    path: Path
    definition_hash: str

    @property
    def consent_column(self) -> str:
        return CHANNELS[self.channel][0]

    @property
    def contact_column(self) -> str:
        return CHANNELS[self.channel][1]

    def member_query(self) -> str:
        """fan_ids of the fans the rule selects who consented to the channel."""
        return f'select fan_id from marts.fan_360 where "{self.consent_column}" and ({self.where_sql})'


def field_family(duckdb_type: str) -> str:
    t = duckdb_type.upper()
    if t == "BOOLEAN":
        return "boolean"
    if any(k in t for k in ("INT", "DECIMAL", "DOUBLE", "FLOAT", "NUMERIC", "REAL")):
        return "number"
    return "text"


def load_segment(path: Path, fields: dict[str, str]) -> Segment:
    """fields: the usable fan_360 columns -> number, text or boolean."""
    path = Path(path)
    raw = path.read_bytes()
    try:
        doc = yaml.load(raw.decode("utf-8"), Loader=_Loader)
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        line = getattr(getattr(error, "problem_mark", None), "line", None)
        raise SegmentError(path, line + 1 if line is not None else None, "(file)", f"not valid YAML: {error}") from None
    if not isinstance(doc, _Mapping):
        raise SegmentError(path, 1, "(file)", "a segment definition is a mapping of name, description, rule, ...")

    def fail(key: str, problem: str, node: _Mapping = doc):
        raise SegmentError(path, node.key_lines.get(key.split(".")[-1], node.line), key, problem)

    unknown = sorted(set(doc) - KEYS)
    if unknown:
        fail(unknown[0], f"unknown key (allowed: {', '.join(sorted(KEYS))})")
    for key in ("name", "description", "owner", "channel", "rule"):
        if key not in doc:
            raise SegmentError(path, doc.line, key, "missing")
    name = doc["name"]
    if not isinstance(name, str) or not NAME.match(name):
        fail("name", "must be lower-case letters, digits and _ (at most 64), starting with a letter")
    if doc["channel"] not in CHANNELS:
        fail("channel", f"must be one of {', '.join(CHANNELS)}")
    contact_data = doc.get("contact_data", "hashed")
    if contact_data not in CONTACT_FORMS:
        fail("contact_data", f"must be one of {', '.join(CONTACT_FORMS)} (hashed when left out)")
    include = doc.get("include", [])
    if not isinstance(include, list):
        fail("include", "must be a list of fan_360 fields")
    for field in include:
        if field not in fields:
            fail("include", f"'{field}' is not a documented non-personal fan_360 field")
    priority = doc.get("priority", 100)
    if not isinstance(priority, int) or isinstance(priority, bool):
        fail("priority", "must be a whole number (lower goes first under the frequency cap)")
    params: list = []
    where = _compile(doc["rule"], "rule", doc, fields, params, path)
    return Segment(
        name=name,
        description=str(doc["description"]),
        owner=str(doc["owner"]),
        channel=doc["channel"],
        contact_data=contact_data,
        include=tuple(include),
        priority=priority,
        where_sql=where,
        params=tuple(params),
        path=path,
        definition_hash=hashlib.sha256(raw).hexdigest(),
    )


def _compile(node, where: str, parent: _Mapping, fields: dict[str, str], params: list, path: Path) -> str:
    """A rule node -> SQL with ? placeholders; values go to params."""
    line = getattr(node, "line", parent.key_lines.get(where.split(".")[-1].split("[")[0], parent.line))
    if not isinstance(node, _Mapping):
        raise SegmentError(path, line, where, "a rule is a condition {field, op, value} or a group {all|any|not}")
    groups = [k for k in ("all", "any", "not") if k in node]
    if groups:
        if len(node) != 1:
            raise SegmentError(path, line, where, "a group has exactly one key: all, any or not")
        key = groups[0]
        if key == "not":
            return f"not ({_compile(node['not'], f'{where}.not', node, fields, params, path)})"
        items = node[key]
        if not isinstance(items, list) or not items:
            raise SegmentError(path, node.key_lines[key], f"{where}.{key}", "must be a non-empty list of rules")
        parts = [_compile(item, f"{where}.{key}[{i}]", node, fields, params, path) for i, item in enumerate(items)]
        return "(" + f" {'and' if key == 'all' else 'or'} ".join(parts) + ")"

    def fail(key: str, problem: str):
        raise SegmentError(path, node.key_lines.get(key, line), f"{where}.{key}", problem)

    unknown = sorted(set(node) - {"field", "op", "value"})
    if unknown:
        fail(unknown[0], "unknown key (a condition has field, op and value)")
    field, op = node.get("field"), node.get("op")
    if field not in fields:
        known = ", ".join(sorted(fields))
        fail("field", f"'{field}' is not a documented non-personal fan_360 field (known: {known})")
    family = fields[field]
    if op not in OPERATORS[family]:
        fail("op", f"'{op}' does not apply to a {family} field (use: {', '.join(sorted(OPERATORS[family]))})")
    column = f'"{field}"'
    if op in ("is_null", "is_not_null"):
        if "value" in node:
            fail("value", f"{op} takes no value")
        return f"{column} is {'not ' if op == 'is_not_null' else ''}null"
    if "value" not in node:
        fail("value", "missing")
    value = node["value"]
    if op in ("in", "not_in", "between"):
        if not isinstance(value, list) or not value or (op == "between" and len(value) != 2):
            fail("value", "must be a list of two values" if op == "between" else "must be a non-empty list")
        for item in value:
            _check_value(item, family, fail)
        params.extend(value)
        if op == "between":
            return f"{column} between ? and ?"
        return f"{column} {'not in' if op == 'not_in' else 'in'} ({', '.join('?' * len(value))})"
    _check_value(value, family, fail)
    params.append(value)
    return f"{column} {COMPARE[op]} ?"


def _check_value(value, family: str, fail) -> None:
    ok = {
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "text": isinstance(value, str),
        "boolean": isinstance(value, bool),
    }[family]
    if not ok:
        fail("value", f"{value!r} is not a {family}")


def load_segments(folder: Path, fields: dict[str, str]) -> tuple[list[Segment], list[SegmentError]]:
    """Every *.yml in the folder (files starting with _ are settings, not segments). Bad
    definitions are returned as errors; the good ones still build. Two files with one name: both
    are refused."""
    segments, errors = [], []
    for path in sorted(Path(folder).glob("*.yml")):
        if path.name.startswith("_"):
            continue
        try:
            segments.append(load_segment(path, fields))
        except SegmentError as error:
            errors.append(error)
    names = [s.name for s in segments]
    for segment in [s for s in segments if names.count(s.name) > 1]:
        errors.append(SegmentError(segment.path, None, "name", f"'{segment.name}' is used by another file too"))
    good = [s for s in segments if names.count(s.name) == 1]
    return sorted(good, key=lambda s: (s.priority, s.name)), errors


def usable_fields(conn, manifest_path: Path) -> dict[str, str]:
    """The fan_360 columns a rule may use: documented in dbt and not marked personal data,
    with their family (number, text, boolean) from the warehouse."""
    marks = documented_columns(manifest_path)[("marts", "fan_360")]
    types = conn.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'marts' and table_name = 'fan_360'"
    ).fetchall()
    return {name: field_family(kind) for name, kind in types if name in marks and not marks[name] and name != "fan_id"}
