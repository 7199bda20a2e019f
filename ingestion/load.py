"""Load landing files into the append-only raw layer of DuckDB.

Every file is recorded in `raw._load_ledger` (content hash, rows read, loaded, rejected);
every input row ends in `raw.<source>` or in `raw._rejects` with a reason. A file whose
content was loaded before is skipped, so re-running a load changes nothing. A file's rows,
rejects and ledger row are committed together: a crash never leaves half a file.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from ingestion.contracts import Contract
from ingestion.readers import FileError, apply_contract, read_text_rows

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

LEDGER_DDL = """
create table if not exists raw._load_ledger (
    batch_id varchar not null,
    run_id varchar,
    source varchar not null,
    source_file varchar not null,
    content_hash varchar not null,
    contract_digest varchar not null,
    size_bytes bigint not null,
    status varchar not null,          -- loaded | failed
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


@dataclass
class FileResult:
    source_file: str
    status: str  # loaded | failed | skipped
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    message: str = ""


@dataclass
class LoadReport:
    source: str
    batch_id: str
    files: list[FileResult] = field(default_factory=list)

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


def first_row(conn: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> tuple | None:
    """The first row of a query, or None. Fetches everything: DuckDB 2.0 refuses new work on a
    connection while a result is unfinished."""
    rows = conn.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _done_before(conn: duckdb.DuckDBPyConnection, contract: Contract) -> set[str]:
    """Hashes not to read again: loaded ones, and failed ones under the same contract."""
    rows = conn.execute(
        """select content_hash from raw._load_ledger
           where source = ? and (status = 'loaded' or contract_digest = ?)""",
        [contract.source, contract.digest],
    ).fetchall()
    return {r[0] for r in rows}


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
    report = LoadReport(contract.source, uuid.uuid4().hex)
    done = _done_before(conn, contract)
    files = sorted(landing_dir.glob(contract.files))
    pending = _Pending()
    for number, path in enumerate(files, start=1):
        name = path.relative_to(landing_dir).as_posix()
        data = path.read_bytes()
        digest = file_digest(data)
        if digest in done:
            report.files.append(FileResult(name, "skipped", message="already loaded (same content)"))
            continue
        done.add(digest)  # the same content twice in one landing folder loads once
        try:
            rows, unreadable = read_text_rows(path, contract, data)
            result = FileResult(name, "loaded")
            pending.add_rows(result, rows, unreadable)
        except (FileError, OSError) as exc:
            result = FileResult(name, "failed", message=str(exc))
        pending.add_file(result, digest, len(data))
        report.files.append(result)
        if pending.rows >= FLUSH_ROWS:
            pending.flush(conn, contract, report.batch_id, run_id)
        if progress and (number % 500 == 0 or number == len(files)):
            progress(f"{contract.source}: {number}/{len(files)} files read")
    pending.flush(conn, contract, report.batch_id, run_id)
    return report


class _Pending:
    """Files read but not yet committed: their rows are typed together, then committed with
    their ledger entries in one transaction."""

    def __init__(self) -> None:
        self.rows_by_file: list[pl.DataFrame] = []
        self.unreadable: list[pl.DataFrame] = []
        self.files: list[tuple[FileResult, str, int]] = []
        self.rows = 0

    def add_rows(self, result: FileResult, rows: pl.DataFrame, unreadable: pl.DataFrame) -> None:
        name = pl.lit(result.source_file)
        self.rows_by_file.append(rows.with_columns(_source_file=name))
        self.unreadable.append(unreadable.with_columns(_source_file=name))
        self.rows += rows.height + unreadable.height

    def add_file(self, result: FileResult, digest: str, size: int) -> None:
        self.files.append((result, digest, size))

    def _type_rows(self, contract: Contract) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Type every pending file's rows at once, then count good and rejected rows per file."""
        if self.rows_by_file:
            good, rejects = apply_contract(pl.concat(self.rows_by_file, how="diagonal"), contract)
            rejects = pl.concat([rejects, *self.unreadable], how="diagonal")
        else:
            good, rejects = pl.DataFrame(), pl.DataFrame()
        per_file = {}
        for frame, attr in ((good, "rows_loaded"), (rejects, "rows_rejected")):
            if frame.height:
                for name, n in frame.group_by("_source_file").len().iter_rows():
                    per_file.setdefault(name, {})[attr] = n
        for result, _, _ in self.files:
            if result.status == "loaded":
                counts = per_file.get(result.source_file, {})
                result.rows_loaded = counts.get("rows_loaded", 0)
                result.rows_rejected = counts.get("rows_rejected", 0)
                result.rows_read = result.rows_loaded + result.rows_rejected
        return good, rejects

    def flush(self, conn: duckdb.DuckDBPyConnection, contract: Contract, batch_id: str, run_id: str | None) -> None:
        if not self.files:
            return
        good, rejects = self._type_rows(contract)
        now = datetime.now(UTC).replace(tzinfo=None)
        conn.execute("begin transaction")
        try:
            if good.height:
                incoming = good.with_columns(_batch_id=pl.lit(batch_id), _loaded_at=pl.lit(now))
                conn.register("incoming_rows", incoming)
                conn.execute(f'insert into raw."{contract.source}" by name select * from incoming_rows')
                conn.unregister("incoming_rows")
            if rejects.height:
                rejects = rejects.rename({"_source_file": "source_file"}).with_columns(
                    batch_id=pl.lit(batch_id), source=pl.lit(contract.source), rejected_at=pl.lit(now)
                )
                conn.register("incoming_rejects", rejects)
                conn.execute("insert into raw._rejects by name select * from incoming_rejects")
                conn.unregister("incoming_rejects")
            ledger = pl.DataFrame(
                [
                    {
                        "source_file": r.source_file,
                        "content_hash": digest,
                        "size_bytes": size,
                        "status": r.status,
                        "rows_read": r.rows_read,
                        "rows_loaded": r.rows_loaded,
                        "rows_rejected": r.rows_rejected,
                        "message": r.message or None,
                    }
                    for r, digest, size in self.files
                ],
                infer_schema_length=None,
            ).with_columns(
                batch_id=pl.lit(batch_id),
                run_id=pl.lit(run_id, dtype=pl.String),
                source=pl.lit(contract.source),
                contract_digest=pl.lit(contract.digest),
                loaded_at=pl.lit(now),
            )
            conn.register("incoming_ledger", ledger)
            conn.execute("insert into raw._load_ledger by name select * from incoming_ledger")
            conn.unregister("incoming_ledger")
            conn.execute("commit")
        except BaseException:
            conn.execute("rollback")
            raise
        self.rows_by_file, self.unreadable, self.files, self.rows = [], [], [], 0
