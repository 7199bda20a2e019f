"""Load landing files into the append-only raw layer of DuckDB.

Every file is recorded in `raw._load_ledger` (content hash, rows read, loaded, rejected);
every input row ends in `raw.<source>` or in `raw._rejects` with a reason. A file whose
content was loaded before is skipped, so re-running a load changes nothing. A file's rows,
rejects and ledger row are committed together: a crash never leaves half a file.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from common.warehouse import first_row, insert_frame, transaction
from ingestion.contracts import Contract
from ingestion.readers import LINE, REJECT_SCHEMA, apply_contract, missing_columns, read_text_files

SQL_TYPES = {
    "string": "varchar",
    "json": "varchar",
    "integer": "bigint",
    "decimal": "decimal(18, 2)",
    "boolean": "boolean",
    "date": "date",
    "datetime": "timestamp",
    "epoch_seconds": "timestamp",
}
FLUSH_ROWS = 1_000_000  # commit at least this often, to bound memory on big loads
READ_TOGETHER_BYTES = 32 * 2**20  # small files are parsed together up to this size (see read_text_files)

LEDGER_DDL = """
create table if not exists raw._load_ledger (
    batch_id varchar not null,
    run_id varchar,
    source varchar not null,
    source_file varchar not null,
    content_hash varchar not null,
    contract_digest varchar not null,
    size_bytes bigint not null,
    status varchar not null,          -- loaded | failed | dropped
    rows_read bigint not null,
    rows_loaded bigint not null,
    rows_rejected bigint not null,
    message varchar,
    loaded_at timestamp not null      -- UTC
)"""
REJECTS_DDL = """
create table if not exists raw._rejects (
    batch_id varchar not null,
    source varchar not null,
    source_file varchar not null,
    _line_number bigint,
    column_name varchar,
    reason varchar not null,
    record varchar,
    rejected_at timestamp not null    -- UTC
)"""
# The Great Expectations verdict of each batch (ingestion.batches): staging leaves held ones out.
VERDICTS_DDL = """
create table if not exists raw._batch_verdicts (
    batch_id varchar not null,
    source varchar not null,
    verdict varchar not null,        -- passed | held | released | dropped
    rows_validated bigint not null,
    validated_at timestamp not null, -- UTC
    problems varchar,                -- the failed critical expectations, for a held batch
    decided_at timestamp,            -- UTC: when someone released or dropped it
    decision_note varchar            -- why, in their words
)"""
# Files whose content was loaded before, found under another name, size or modification time
# (a landing folder copied or restored without its times, a file touched): remembered, so that
# the next run skips them unread instead of reading and hashing them again every run.
SEEN_DDL = """
create table if not exists raw._seen_files (
    source varchar not null,
    source_file varchar not null,
    size_bytes bigint not null,
    modified_at double not null,     -- epoch seconds
    content_hash varchar not null,   -- the content a loaded batch of the ledger holds
    seen_at timestamp not null       -- UTC
)"""
CURSORS_DDL = """
create table if not exists raw._api_cursors (
    name varchar primary key,         -- the API and endpoint the cursor belongs to
    cursor varchar not null,          -- JSON: where the next pull starts
    updated_at timestamp not null     -- UTC
)"""


@dataclass
class FileResult:
    source_file: str
    status: str  # loaded | failed | skipped (in the ledger also: dropped, see ingestion.batches)
    batch_id: str = ""  # every file (or API page) a load reads is a batch of its own
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    message: str = ""
    missing_columns: list[str] = field(default_factory=list)  # declared in the contract, absent from the file


@dataclass
class LoadReport:
    source: str
    load_id: str  # one load of one source; its files' batch ids are <load_id>:<n>
    files: list[FileResult] = field(default_factory=list)

    def new_batch(self) -> str:
        return f"{self.load_id}:{len(self.files) + 1:05d}"

    def count(self, status: str) -> int:
        return sum(f.status == status for f in self.files)

    def total(self, attr: str) -> int:
        return sum(getattr(f, attr) for f in self.files)

    def summary(self) -> dict:
        return {
            "files_loaded": self.count("loaded"),
            "files_failed": self.count("failed"),
            "files_skipped": self.count("skipped"),
            "rows_read": self.total("rows_read"),
            "rows_loaded": self.total("rows_loaded"),
            "rows_rejected": self.total("rows_rejected"),
        }


def ensure_raw_tables(conn: duckdb.DuckDBPyConnection, contract: Contract) -> None:
    """Create the raw schema, ledger, rejects and this source's table; add new contract columns."""
    conn.execute("create schema if not exists raw")
    conn.execute(LEDGER_DDL)
    conn.execute(REJECTS_DDL)
    conn.execute(CURSORS_DDL)
    conn.execute(VERDICTS_DDL)
    conn.execute(SEEN_DDL)
    # the file's modification time (epoch seconds): an unchanged file is skipped unread
    conn.execute("alter table raw._load_ledger add column if not exists modified_at double")
    # the contract's columns the file lacks (by their name in the file): they loaded as empty
    conn.execute("alter table raw._load_ledger add column if not exists missing_columns varchar[]")
    columns = ",\n    ".join(f'"{c.name}" {SQL_TYPES[c.type]}' for c in contract.columns)
    conn.execute(f"""
        create table if not exists raw."{contract.source}" (
            {columns},
            _line_number bigint,
            _source_file varchar not null,
            _batch_id varchar not null,
            _loaded_at timestamp not null
        )""")
    existing = {
        r[0]
        for r in conn.execute(
            "select column_name from information_schema.columns where table_schema = 'raw' and table_name = ?",
            [contract.source],
        ).fetchall()
    }
    for c in contract.columns:  # columns only ever get added: raw is append-only
        if c.name not in existing:
            conn.execute(f'alter table raw."{contract.source}" add column "{c.name}" {SQL_TYPES[c.type]}')


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _done_before(conn: duckdb.DuckDBPyConnection, contract: Contract, digest: str | None = None) -> dict[str, str]:
    """Hashes not to read again, with their status: loaded ones, and failed ones under the same
    contract (only `digest`, when given: an API pull asks page by page)."""
    rows = conn.execute(
        """select content_hash, max(status) from raw._load_ledger  -- 'loaded' sorts after 'failed'
           where source = ? and (status = 'loaded' or (status = 'failed' and contract_digest = ?))
             and (? is null or content_hash = ?)
           group by content_hash""",
        [contract.source, contract.digest, digest, digest],
    ).fetchall()
    return dict(rows)


def _unchanged_files(conn: duckdb.DuckDBPyConnection, contract: Contract) -> set[tuple[str, int, float]]:
    """(name, size, mtime) of the files loaded (or loaded, then dropped) before, and of those
    found to hold loaded content since: only new or changed files are read."""
    rows = conn.execute(
        """select source_file, size_bytes, modified_at from raw._load_ledger
           where source = ? and status in ('loaded', 'dropped') and modified_at is not null
           union
           select source_file, size_bytes, modified_at from raw._seen_files where source = ?""",
        [contract.source, contract.source],
    ).fetchall()
    return set(rows)


def load_source(
    conn: duckdb.DuckDBPyConnection,
    contract: Contract,
    landing_dir: Path,
    run_id: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> LoadReport:
    """Load every new file of one source from the landing folder into raw."""
    landing_dir = Path(landing_dir)
    ensure_raw_tables(conn, contract)
    report = LoadReport(contract.source, uuid.uuid4().hex[:16])
    done = _done_before(conn, contract)
    unchanged = _unchanged_files(conn, contract)
    files = sorted(landing_dir.glob(contract.files))
    inside = landing_dir.resolve()
    pending = _Pending()
    group: list[tuple[FileResult, Path, bytes, str, float]] = []  # read, not yet parsed
    group_bytes = 0
    seen: list[tuple[str, str, int, float, str]] = []  # loaded content under a new name, size or time
    for number, path in enumerate(files, start=1):
        name = path.relative_to(landing_dir).as_posix()
        real = path.resolve()
        if not real.is_relative_to(inside):
            # a link out of the landing folder: refused unread, so nothing of it is written anywhere
            digest = "link:" + file_digest(f"{name}->{real}".encode())
            if digest not in done:
                done[digest] = "failed"
                message = f"{name}: refused unread: it is a link to {real}, outside the landing folder {inside}"
                result = FileResult(name, "failed", report.new_batch(), message=message)
                pending.add_file(result, digest, 0)
                report.files.append(result)
            continue
        stat = path.stat()
        if (name, stat.st_size, stat.st_mtime) in unchanged:
            report.files.append(FileResult(name, "skipped", message="unchanged since it was loaded"))
            continue
        data = path.read_bytes()
        digest = file_digest(data)
        if digest in done:
            report.files.append(FileResult(name, "skipped", message="already loaded (same content)"))
            if done[digest] == "loaded":  # a failed file is read again under a new contract
                seen.append((contract.source, name, stat.st_size, stat.st_mtime, digest))
            continue
        done[digest] = "reading"  # the same content twice in one landing folder loads once
        result = FileResult(name, "loaded", report.new_batch())
        report.files.append(result)
        group.append((result, path, data, digest, stat.st_mtime))
        group_bytes += len(data)
        if group_bytes >= READ_TOGETHER_BYTES:
            _parse(group, contract, pending)
            group, group_bytes = [], 0
            if pending.rows >= FLUSH_ROWS:
                pending.flush(conn, contract, run_id)
        if progress and (number % 500 == 0 or number == len(files)):
            progress(f"{contract.source}: {number}/{len(files)} files read")
    _parse(group, contract, pending)
    pending.flush(conn, contract, run_id)
    if seen:
        columns = ["source", "source_file", "size_bytes", "modified_at", "content_hash"]
        frame = pl.DataFrame(seen, schema=columns, orient="row")
        insert_frame(conn, "raw._seen_files", frame.with_columns(seen_at=datetime.now(UTC).replace(tzinfo=None)))
    return report


def _parse(group: list[tuple[FileResult, Path, bytes, str, float]], contract: Contract, pending: _Pending) -> None:
    """Parse the files read (together where the reader can), and queue their rows or failures."""
    read = read_text_files([(path, data) for _, path, data, *_ in group], contract)
    for (result, _, data, digest, modified_at), outcome in zip(group, read, strict=True):
        if isinstance(outcome, Exception):
            result.status, result.message = "failed", str(outcome)
        else:
            rows, unreadable = outcome
            result.missing_columns = missing_columns(rows, contract)
            if result.missing_columns:
                result.message = (
                    f"{result.source_file}: column(s) {', '.join(result.missing_columns)} of {contract.path.name} "
                    "missing from the file: loaded as empty"
                )
            pending.add_rows(result, rows, unreadable)
        pending.add_file(result, digest, len(data), modified_at)


def load_page(
    conn: duckdb.DuckDBPyConnection,
    contract: Contract,
    report: LoadReport,
    name: str,
    records: list[dict],
    run_id: str | None = None,
    cursor: tuple[str, str] | None = None,
) -> FileResult:
    """Land one page pulled from an API like a file: through the contract into raw or the
    rejects, with a ledger entry. `cursor` (name, value) is saved in the same transaction, so a
    page is either loaded with its cursor moved past it, or not at all. A page whose content
    was loaded before is skipped (its cursor still moves). Call `ensure_raw_tables` once before
    the first page."""
    data = json.dumps(records, ensure_ascii=False, sort_keys=True).encode()
    digest = file_digest(data)
    pending = _Pending()
    if digest in _done_before(conn, contract, digest):
        result = FileResult(name, "skipped", message="already loaded (same content)")
    else:
        result = FileResult(name, "loaded", report.new_batch())
        pending.add_rows(result, _text_rows(records, contract), pl.DataFrame(schema=REJECT_SCHEMA))
        pending.add_file(result, digest, len(data))
    pending.flush(conn, contract, run_id, cursor)
    report.files.append(result)
    return result


def _text_rows(records: list[dict], contract: Contract) -> pl.DataFrame:
    """An API page's records as text rows under the contract's source names, as a reader
    gives them for a file; lists and objects stay JSON text."""

    def text(value: object) -> str | None:
        if value is None:
            return None
        if isinstance(value, (list, dict)):
            return json.dumps(value, ensure_ascii=False)
        return str(value)

    records = [r if isinstance(r, dict) else {} for r in records]  # a non-object row is all nulls: rejected
    columns = {c.source: [text(r.get(c.source)) for r in records] for c in contract.columns}
    return (
        pl.DataFrame(columns, schema={c.source: pl.String for c in contract.columns})
        .with_row_index(LINE, offset=1)
        .with_columns(pl.col(LINE).cast(pl.Int64))
    )


def read_cursor(conn: duckdb.DuckDBPyConnection, name: str) -> str | None:
    """Where the named pull stopped last time (after `ensure_raw_tables`), or None."""
    row = first_row(conn, "select cursor from raw._api_cursors where name = ?", [name])
    return row[0] if row else None


def _with_lineage(parts: list[tuple[FileResult, pl.DataFrame]]) -> pl.DataFrame:
    """Many files' rows in one frame, each row with its file's name and batch id. The two
    columns are gathered once for all the files: a landing folder may hold thousands of small
    ones (a POS file per store per day)."""
    frame = pl.concat([rows for _, rows in parts], how="diagonal")
    which = pl.Series(np.repeat(np.arange(len(parts)), [rows.height for _, rows in parts]))
    return frame.with_columns(
        pl.Series("_source_file", [result.source_file for result, _ in parts]).gather(which),
        pl.Series("_batch_id", [result.batch_id for result, _ in parts]).gather(which),
    )


class _Pending:
    """Files read but not yet committed: their rows are typed together, then committed with
    their ledger entries in one transaction."""

    def __init__(self) -> None:
        self.rows_by_file: list[tuple[FileResult, pl.DataFrame]] = []
        self.unreadable: list[tuple[FileResult, pl.DataFrame]] = []
        self.files: list[tuple[FileResult, str, int, float | None]] = []
        self.rows = 0

    def add_rows(self, result: FileResult, rows: pl.DataFrame, unreadable: pl.DataFrame) -> None:
        self.rows_by_file.append((result, rows))
        if unreadable.height:
            self.unreadable.append((result, unreadable))
        self.rows += rows.height + unreadable.height

    def add_file(self, result: FileResult, digest: str, size: int, modified_at: float | None = None) -> None:
        self.files.append((result, digest, size, modified_at))

    def _type_rows(self, contract: Contract) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Type every pending file's rows at once, then count good and rejected rows per file."""
        if self.rows_by_file:
            good, rejects = apply_contract(_with_lineage(self.rows_by_file), contract)
            if self.unreadable:
                rejects = pl.concat([rejects, _with_lineage(self.unreadable)], how="diagonal")
        else:
            good, rejects = pl.DataFrame(), pl.DataFrame()
        per_file = {}
        for frame, attr in ((good, "rows_loaded"), (rejects, "rows_rejected")):
            if frame.height:
                for batch_id, n in frame.group_by("_batch_id").len().iter_rows():
                    per_file.setdefault(batch_id, {})[attr] = n
        for result, *_ in self.files:
            if result.status == "loaded":
                counts = per_file.get(result.batch_id, {})
                result.rows_loaded = counts.get("rows_loaded", 0)
                result.rows_rejected = counts.get("rows_rejected", 0)
                result.rows_read = result.rows_loaded + result.rows_rejected
        return good, rejects

    def _ledger(self, contract: Contract, run_id: str | None, now: datetime) -> pl.DataFrame:
        return pl.DataFrame(
            [
                {
                    "batch_id": r.batch_id,
                    "source_file": r.source_file,
                    "content_hash": digest,
                    "size_bytes": size,
                    "status": r.status,
                    "rows_read": r.rows_read,
                    "rows_loaded": r.rows_loaded,
                    "rows_rejected": r.rows_rejected,
                    "message": r.message or None,
                    "modified_at": modified_at,
                    "missing_columns": r.missing_columns,
                }
                for r, digest, size, modified_at in self.files
            ],
            infer_schema_length=None,
            schema_overrides={"missing_columns": pl.List(pl.String), "modified_at": pl.Float64},
        ).with_columns(
            run_id=pl.lit(run_id, dtype=pl.String),
            source=pl.lit(contract.source),
            contract_digest=pl.lit(contract.digest),
            loaded_at=pl.lit(now),
        )

    def flush(
        self,
        conn: duckdb.DuckDBPyConnection,
        contract: Contract,
        run_id: str | None,
        cursor: tuple[str, str] | None = None,
    ) -> None:
        if not self.files and cursor is None:
            return
        good, rejects = self._type_rows(contract)
        now = datetime.now(UTC).replace(tzinfo=None)
        with transaction(conn):
            if cursor is not None:
                conn.execute("insert or replace into raw._api_cursors values (?, ?, ?)", [cursor[0], cursor[1], now])
            if good.height:
                insert_frame(conn, f'raw."{contract.source}"', good.with_columns(_loaded_at=pl.lit(now)))
            if rejects.height:
                renamed = rejects.rename({"_source_file": "source_file", "_batch_id": "batch_id"})
                insert_frame(
                    conn, "raw._rejects", renamed.with_columns(source=pl.lit(contract.source), rejected_at=pl.lit(now))
                )
            if self.files:
                insert_frame(conn, "raw._load_ledger", self._ledger(contract, run_id, now))
        self.rows_by_file, self.unreadable, self.files, self.rows = [], [], [], 0
