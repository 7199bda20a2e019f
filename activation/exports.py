"""Segment memberships and export files. Per run: who is in each segment (a snapshot), who
entered and left since the last export, who may be contacted under the frequency cap, and per
segment a folder with CSV (UTF-8 with BOM, for Excel), a spreadsheet (.xlsx, for programs that
ignore the BOM), Parquet and a manifest. A folder is
written under a hidden temporary name and renamed into place, so a crash never leaves half an
export and the previous exports stay as they were."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import polars.selectors as cs
import rustpy_xlsxwriter
import yaml

from activation.privacy import hash_sql, mask_sql
from activation.segments import Segment
from common.errors import UserError
from common.warehouse import insert_frame, registered, transaction

TABLES = """
create schema if not exists segments;
create table if not exists segments.memberships (
    run_id varchar not null, snapshot_at timestamp not null, segment varchar not null,
    fan_id varchar not null, is_exported boolean not null, excluded_reason varchar
);
create table if not exists segments.contact_log (
    run_id varchar not null, exported_at timestamp not null, segment varchar not null,
    channel varchar not null, fan_id varchar not null
);
create table if not exists segments.forgotten (
    fan_id varchar not null, forgotten_at timestamp not null
);
create table if not exists segments.exports (
    run_id varchar not null, exported_at timestamp not null, segment varchar not null,
    definition_hash varchar not null, members integer, exported integer, capped integer,
    entered integer, left_segment integer, folder varchar
);
"""
CONTACT_KINDS = {"phone": "phone", "email": "email", "wechat_openid": "id"}
SHEET_ROWS = 1_048_575  # rows below the header that one Excel / LibreOffice sheet holds
CELL_CHARS = 32_767  # characters one cell holds: the spreadsheet writer refuses a longer value


@dataclass(frozen=True)
class FrequencyCap:
    """At most max_contacts exports for contact per fan in any per_days days, all segments together."""

    max_contacts: int = 2
    per_days: int = 7


class PolicyError(UserError, ValueError):
    """`_policy.yml` cannot be used: the file and the key, and what is expected."""


def load_cap(folder: Path) -> FrequencyCap:
    """The frequency cap of `<folder>/_policy.yml` (the default cap when there is none)."""
    path = Path(folder) / "_policy.yml"
    if not path.exists():
        return FrequencyCap()
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise PolicyError(f"{path}: not valid YAML: {error}") from None
    spec = doc.get("frequency_cap", {}) if isinstance(doc, dict) else None
    if not isinstance(spec, dict):
        raise PolicyError(f"{path}: 'frequency_cap' must be a mapping with max_contacts and per_days")
    unknown = sorted(set(spec) - {"max_contacts", "per_days"})
    if unknown:
        raise PolicyError(f"{path}: 'frequency_cap.{unknown[0]}': unknown key (allowed: max_contacts, per_days)")
    for key, value in spec.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise PolicyError(f"{path}: 'frequency_cap.{key}': must be a whole number of at least 1 (got {value!r})")
    return FrequencyCap(**spec)


def safe_folder(root: Path, name: str) -> Path:
    """root/name, refusing any name that would leave root."""
    root = root.resolve()
    folder = (root / name).resolve()
    if folder.parent != root:
        raise ValueError(f"export name '{name}' would leave the export folder {root}")
    return folder


def contact_columns(segment: Segment) -> list[str]:
    """The phone (what ad platforms match on) and the channel's contact column, in the form
    the definition allows: SHA-256 of the normalised value, masked, or raw."""
    columns = ["phone"] if segment.contact_column == "phone" else ["phone", segment.contact_column]
    out = []
    for column in columns:
        if segment.contact_data == "hashed":
            out.append(f'{hash_sql(column)} as "{column}_sha256"')
        elif segment.contact_data == "masked":
            out.append(f'{mask_sql(column, CONTACT_KINDS[column])} as "{column}_masked"')
        else:
            out.append(f'"{column}"')
    return out


def _file_entry(path: Path, rows: int) -> dict:
    return {"sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "bytes": path.stat().st_size, "rows": rows}


def plan_contacts(members: set[str], contacts: dict[str, int], cap: FrequencyCap) -> tuple[list[str], list[str]]:
    """Who of a segment's members may be contacted: (exported, capped), both sorted. `contacts`
    is each fan's contacts within the cap's window so far (earlier runs and the segments served
    before this one); it is updated with this segment's."""
    exported, capped = [], []
    for fan in sorted(members):
        if contacts.get(fan, 0) >= cap.max_contacts:
            capped.append(fan)
        else:
            exported.append(fan)
            contacts[fan] = contacts.get(fan, 0) + 1
    return exported, capped


def export_segments(
    conn: duckdb.DuckDBPyConnection,
    segments: list[Segment],
    export_dir: Path,
    run_id: str,
    now: datetime,
    cap: FrequencyCap,
    progress=print,
    forget: tuple[str, ...] = (),
) -> list[dict]:
    """Snapshot, cap, write and record every segment; returns one summary per segment. The
    database rows and the renamed folders land together: on an error nothing is recorded and
    no new folder appears. Fans in `forget` (erasure requests) are deleted from the history, once:
    `segments.forgotten` records it, and no later snapshot can hold them (they left fan_360). Doing
    it again every run read the whole history: a year of daily snapshots at 1M people is 71M
    memberships (benchmarks/history.py)."""
    conn.execute(TABLES)
    export_dir.mkdir(parents=True, exist_ok=True)
    staging = safe_folder(export_dir, f".tmp-{run_id}")
    for leftover in export_dir.glob(".tmp-*"):  # from runs that crashed
        shutil.rmtree(leftover, ignore_errors=True)
    contacts = _recent_contacts(conn, now, cap)
    results, renames = [], []
    try:
        with transaction(conn):
            _forget(conn, forget, now)
            for segment in segments:
                members = set(conn.sql(segment.member_query(), params=list(segment.params)).pl()["fan_id"])
                previous = _last_members(conn, segment.name)
                entered, left = sorted(members - previous), sorted(previous - members)
                exported, capped = plan_contacts(members, contacts, cap)
                work = staging / segment.name
                work.mkdir(parents=True)
                files = _write_files(conn, segment, exported, entered, left, work)
                target = safe_folder(export_dir, segment.name) / f"{now:%Y%m%dT%H%M%S}_{run_id[:8]}"
                counts = {
                    "members": len(members),
                    "exported": len(exported),
                    "capped": len(capped),
                    "entered": len(entered),
                    "left": len(left),
                }
                manifest = _manifest(segment, run_id, now, cap, counts, files)
                (work / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2))
                _record(conn, segment, run_id, now, exported, capped, counts, target)
                renames.append((work, target))
                results.append({**manifest, "folder": str(target)})
                progress(
                    f"segment {segment.name}: {len(members):,} members, {len(exported):,} exported, "
                    f"{len(capped):,} capped, +{len(entered):,} / -{len(left):,}"
                )
            _move_into_place(renames)
    except BaseException:
        for work, target in renames:  # folders renamed before the failure go again
            if target.exists() and not work.exists():
                shutil.rmtree(target, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return results


def _forget(conn, forget: tuple[str, ...], now: datetime) -> None:
    """Delete the fans in `forget` not forgotten before from the memberships and the contact log."""
    with registered(conn, "_forget", pl.DataFrame({"fan_id": list(forget)}, schema={"fan_id": pl.String})):
        new = "(select fan_id from _forget except select fan_id from segments.forgotten)"
        for table in ("memberships", "contact_log"):
            conn.execute(f"delete from segments.{table} where fan_id in {new}")
        conn.execute(f"insert into segments.forgotten select fan_id, ? from {new}", [now])


def _recent_contacts(conn, now: datetime, cap: FrequencyCap) -> dict[str, int]:
    """Each fan's contacts within the cap's window before this run."""
    since = now.timestamp() - cap.per_days * 86400
    rows = conn.execute(
        "select fan_id, count(*) from segments.contact_log where exported_at > to_timestamp(?)::timestamp "
        "group by fan_id",
        [since],
    ).fetchall()
    return dict(rows)


def _last_members(conn, segment: str) -> set[str]:
    """The members of the segment's previous export."""
    rows = conn.execute(
        """select fan_id from segments.memberships where segment = ? and run_id = (
               select run_id from segments.exports where segment = ? order by exported_at desc limit 1)""",
        [segment, segment],
    ).fetchall()
    return {r[0] for r in rows}


def _manifest(segment: Segment, run_id: str, now: datetime, cap: FrequencyCap, counts: dict, files: dict) -> dict:
    return {
        "segment": segment.name,
        "description": segment.description,
        "owner": segment.owner,
        "definition_file": segment.path.name,
        "definition_hash": segment.definition_hash,
        "run_id": run_id,
        "generated_at": now.isoformat(timespec="seconds"),
        "channel": segment.channel,
        "contact_data": segment.contact_data,
        "frequency_cap": {"max_contacts": cap.max_contacts, "per_days": cap.per_days},
        "counts": counts,
        "files": files,
    }


def _record(conn, segment: Segment, run_id: str, now: datetime, exported, capped, counts: dict, target: Path) -> None:
    """The membership snapshot, the contact log and the export itself, in the warehouse."""
    snapshot = pl.DataFrame(
        {
            "run_id": run_id,
            "snapshot_at": now,
            "segment": segment.name,
            "fan_id": exported + capped,
            "is_exported": [True] * len(exported) + [False] * len(capped),
            "excluded_reason": [None] * len(exported) + ["frequency cap"] * len(capped),
        },
        # explicit types: an empty segment gives empty lists, whose type polars cannot infer
        schema_overrides={
            "fan_id": pl.String,
            "is_exported": pl.Boolean,
            "excluded_reason": pl.String,
            "snapshot_at": pl.Datetime("us"),
        },
    )
    insert_frame(conn, "segments.memberships", snapshot)
    log = snapshot.filter(pl.col("is_exported")).select(
        "run_id", exported_at="snapshot_at", segment="segment", channel=pl.lit(segment.channel), fan_id="fan_id"
    )
    insert_frame(conn, "segments.contact_log", log)
    conn.execute(
        "insert into segments.exports values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [run_id, now, segment.name, segment.definition_hash, *counts.values(), str(target)],
    )


def _move_into_place(renames: list[tuple[Path, Path]]) -> None:
    for work, target in renames:
        target.parent.mkdir(parents=True, exist_ok=True)
        work.rename(target)  # a directory rename is atomic: the folder appears whole
        pointer = target.parent / "LATEST.tmp"
        pointer.write_text(target.name + "\n")
        pointer.replace(target.parent / "LATEST")


def write_sheet(rows: pl.DataFrame, path: Path, sheet: str) -> None:
    """One worksheet: a bold header that stays in view and filters, columns as wide as their
    longest value, written by rust_xlsxwriter (rustpy-xlsxwriter) straight from the frame. The
    Python XlsxWriter, one call per row, took 2.9 s for 90,000 rows of 4 columns against 0.4 s
    (2026-12-08): 7.5 s of the 10 s the exports of a 1M full build took. A text value is written
    as text, whatever it starts with: a name typed as a formula (=...) or a link never runs in the
    marketer's spreadsheet. Decimals go as doubles, which is what a spreadsheet holds: the
    writer left decimal columns empty (0.8.0)."""
    rows = rows.with_columns(cs.decimal().cast(pl.Float64))
    # bytes, not characters: a Chinese character takes two columns' width and three bytes
    longest = rows.select(pl.all().cast(pl.String).str.len_bytes().max().fill_null(0)).row(0) if rows.height else ()
    widths = [min(max(len(name), longest[i] if longest else 0), 80) + 2 for i, name in enumerate(rows.columns)]
    rustpy_xlsxwriter.write_worksheet(
        rows,
        str(path),
        sheet_name=sheet,
        freeze_row=1,
        bold_headers=True,
        autofilter=True,
        column_widths=widths,
        datetime_format="yyyy-mm-dd hh:mm:ss",
    )


def _write_files(conn, segment: Segment, exported: list[str], entered: list[str], left: list[str], work: Path) -> dict:
    """<segment>.csv (UTF-8 with BOM, for Excel), .xlsx (for spreadsheet programs that ignore the
    BOM; left out, and the manifest says why, when the rows do not fit one sheet or a value one
    cell) and .parquet,
    with the contact columns in the allowed form; changes.csv lists fan ids that entered or left."""
    extra = "".join(f', fan_360."{f}"' for f in segment.include)
    with registered(conn, "_chosen", pl.DataFrame({"fan_id": exported}, schema={"fan_id": pl.String})):
        rows = conn.sql(
            f"""select fan_360.fan_id, {", ".join(contact_columns(segment))}{extra}
                from marts.fan_360 inner join _chosen using (fan_id) order by fan_360.fan_id"""
        ).pl()
    files = {}
    csv, parquet, xlsx = (work / f"{segment.name}.{kind}" for kind in ("csv", "parquet", "xlsx"))
    rows.write_csv(csv, include_bom=True)
    rows.write_parquet(parquet)
    written = [(csv, rows.height), (parquet, rows.height)]
    longest = max((rows[c].str.len_chars().max() or 0 for c in rows.select(cs.string()).columns), default=0)
    # a spreadsheet would cut the rows or a value off: the CSV and the Parquet file hold them all
    if rows.height > SHEET_ROWS:
        files[xlsx.name] = {"left_out": f"{rows.height:,} rows do not fit one sheet ({SHEET_ROWS:,})"}
    elif longest > CELL_CHARS:
        files[xlsx.name] = {"left_out": f"a value of {longest:,} characters does not fit one cell ({CELL_CHARS:,})"}
    else:
        write_sheet(rows, xlsx, segment.name[:31])
        written.append((xlsx, rows.height))
    changes = pl.DataFrame(
        {"fan_id": entered + left, "change": ["entered"] * len(entered) + ["left"] * len(left)},
        schema={"fan_id": pl.String, "change": pl.String},
    )
    changes_csv = work / "changes.csv"
    changes.write_csv(changes_csv, include_bom=True)
    for path, n in (*written, (changes_csv, changes.height)):
        files[path.name] = _file_entry(path, n)
    return files
