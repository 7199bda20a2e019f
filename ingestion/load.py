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
from ingestion.readers import LINE, FileError, read_file

SQL_TYPES = {
    "string": "varchar", "json": "varchar", "integer": "bigint", "decimal": "decimal(18, 2)",
    "boolean": "boolean", "date": "date", "datetime": "timestamp", "epoch_seconds": "timestamp",
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
            "files_loaded": self.count("loaded"), "files_failed": self.count("failed"),
            "files_skipped": self.count("skipped"), "rows_read": self.total("rows_read"),
            "rows_loaded": self.total("rows_loaded"), "rows_rejected": self.total("rows_rejected"),
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
    existing = {r[0] for r in conn.execute(
        "select column_name from information_schema.columns where table_schema = 'raw' and table_name = ?",
        [contract.source]).fetchall()}
    for c in contract.columns:  # columns only ever get added: raw is append-only
        if c.name not in existing:
            conn.execute(f'alter table raw."{contract.source}" add column "{c.name}" {SQL_TYPES[c.type]}')


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _done_before(conn: duckdb.DuckDBPyConnection, contract: Contract) -> set[str]:
    """Hashes not to read again: loaded ones, and failed ones under the same contract."""
    rows = conn.execute(
        """select content_hash from raw._load_ledger
           where source = ? and (status = 'loaded' or contract_digest = ?)""",
        [contract.source, contract.digest]).fetchall()
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
            good, rejects = read_file(path, contract, data)
            result = FileResult(name, "loaded", good.height + rejects.height, good.height, rejects.height)
            pending.add_rows(name, good, rejects)
        except (FileError, OSError) as exc:
            result = FileResult(name, "failed", message=str(exc))
        pending.add_ledger(result, digest, len(data))
        report.files.append(result)
        if pending.rows >= FLUSH_ROWS or number == len(files):
            pending.flush(conn, contract, report.batch_id, run_id)
        if progress and (number % 500 == 0 or number == len(files)):
            progress(f"{contract.source}: {number}/{len(files)} files, {report.total('rows_loaded'):,} rows loaded")
    pending.flush(conn, contract, report.batch_id, run_id)
    return report


class _Pending:
    """Rows and ledger entries waiting to be committed together."""

    def __init__(self) -> None:
        self.good: list[pl.DataFrame] = []
        self.rejects: list[pl.DataFrame] = []
        self.ledger: list[dict] = []
        self.rows = 0

    def add_rows(self, name: str, good: pl.DataFrame, rejects: pl.DataFrame) -> None:
        if good.height:
            self.good.append(good.with_columns(_source_file=pl.lit(name)))
        if rejects.height:
            self.rejects.append(rejects.with_columns(source_file=pl.lit(name)))
        self.rows += good.height + rejects.height

    def add_ledger(self, result: FileResult, digest: str, size: int) -> None:
        self.ledger.append({
            "source_file": result.source_file, "content_hash": digest, "size_bytes": size,
            "status": result.status, "rows_read": result.rows_read, "rows_loaded": result.rows_loaded,
            "rows_rejected": result.rows_rejected, "message": result.message or None,
        })

    def flush(self, conn: duckdb.DuckDBPyConnection, contract: Contract, batch_id: str, run_id: str | None) -> None:
        if not self.ledger:
            return
        now = datetime.now(UTC).replace(tzinfo=None)
        conn.execute("begin transaction")
        try:
            if self.good:
                incoming = pl.concat(self.good).with_columns(
                    _batch_id=pl.lit(batch_id), _loaded_at=pl.lit(now))
                conn.register("incoming_rows", incoming)
                conn.execute(f'insert into raw."{contract.source}" by name select * from incoming_rows')
                conn.unregister("incoming_rows")
            if self.rejects:
                rejects = pl.concat(self.rejects).with_columns(
                    batch_id=pl.lit(batch_id), source=pl.lit(contract.source), rejected_at=pl.lit(now))
                conn.register("incoming_rejects", rejects)
                conn.execute("insert into raw._rejects by name select * from incoming_rejects")
                conn.unregister("incoming_rejects")
            ledger = pl.DataFrame(self.ledger, infer_schema_length=None).with_columns(
                batch_id=pl.lit(batch_id), run_id=pl.lit(run_id, dtype=pl.String), source=pl.lit(contract.source),
                contract_digest=pl.lit(contract.digest), loaded_at=pl.lit(now))
            conn.register("incoming_ledger", ledger)
            conn.execute("insert into raw._load_ledger by name select * from incoming_ledger")
            conn.unregister("incoming_ledger")
            conn.execute("commit")
        except BaseException:
            conn.execute("rollback")
            raise
        self.good, self.rejects, self.ledger, self.rows = [], [], [], 0


__all__ = ["LINE", "FileResult", "LoadReport", "ensure_raw_tables", "load_source"]
