"""How personal data leaves the warehouse: masked for people (BI, previews), hashed for
machines (ad platforms match SHA-256 of the normalised phone), raw only where a segment
definition says so. Columns are marked in the dbt docs with `meta: {personal_data: <kind>}`;
every outside copy reads the marks from the manifest, so a new personal column is masked as
soon as it is documented as one."""

from __future__ import annotations

import json
from pathlib import Path

KINDS = ("phone", "email", "name", "id", "date")

# DuckDB expressions over `{c}`; the masked forms keep what a person needs to recognise a row,
# ids become stable pseudonyms (still joinable), dates keep their year.
MASKS = {
    "phone": "case when {c} is null then null else left({c}, 3) || '****' || right({c}, 4) end",
    "email": r"regexp_replace({c}, '^(.)[^@]*@', '\1***@')",
    "name": "case when {c} is null then null else left({c}, 1) || '**' end",
    "id": "case when {c} is null then null else 'h:' || left(sha256(cast({c} as varchar)), 16) end",
    "date": "cast(date_trunc('year', {c}) as date)",
}
HASH = "case when {c} is null then null else sha256({c}) end"


def mask_sql(column: str, kind: str) -> str:
    return MASKS[kind].format(c=column)


def hash_sql(column: str) -> str:
    return HASH.format(c=column)


def documented_columns(manifest_path: Path) -> dict[tuple[str, str], dict[str, str | None]]:
    """(schema, model) -> {column: personal-data kind, or None} for every documented column."""
    manifest = json.loads(Path(manifest_path).read_text())
    columns: dict[tuple[str, str], dict[str, str | None]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model":
            continue
        marks = columns.setdefault((node["schema"], node["name"]), {})
        for name, column in node["columns"].items():
            kind = (column.get("meta") or {}).get("personal_data")
            if kind and kind not in KINDS:
                where = node["original_file_path"]
                raise ValueError(f"{where}: column {name}: personal_data must be one of {', '.join(KINDS)}")
            marks[name] = kind
    return columns


def personal_columns(manifest_path: Path) -> dict[tuple[str, str], dict[str, str]]:
    """(schema, model) -> {column: kind} for every documented column marked as personal data."""
    return {
        model: {name: kind for name, kind in marks.items() if kind}
        for model, marks in documented_columns(manifest_path).items()
    }
