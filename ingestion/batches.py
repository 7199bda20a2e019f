"""The validation verdict of every batch, and the two ways a person deals with a held one.

A batch is one file (or API page) as a load brought it in (`_batch_id` in raw, in the ledger
and in the rejects). Great Expectations judges each batch once; a batch with a row that failed
a critical expectation is **held**: staging leaves its rows out, run after run, until someone **releases**
it (the rows were right after all: they flow on the next run) or **drops** it (its rows move to
`raw._rejects` with the reason, so nothing is lost, and its files may be landed again fixed).
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import polars as pl

from common.errors import UserError
from common.warehouse import first_row, insert_frame, transaction
from ingestion.load import VERDICTS_DDL

# Sources whose rows flow even when their batch is held: an erasure request must be honoured
# even if its file is odd (an erasure that waits for a review is a privacy failure).
NEVER_HELD = ("erasure_requests",)


class BatchError(UserError, ValueError):
    """A release or drop that cannot be done: the message says why."""


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def ensure_verdicts_table(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute("create schema if not exists raw")
    conn.execute(VERDICTS_DDL)


def unjudged_batches(conn: duckdb.DuckDBPyConnection, source: str) -> dict[str, int]:
    """Batches of a source that brought rows and have no verdict yet (this run's, and any a
    killed or failed run left unvalidated), with their rows."""
    ensure_verdicts_table(conn)
    rows = conn.execute(
        """select ledger.batch_id, sum(ledger.rows_loaded) from raw._load_ledger as ledger
           where ledger.source = ? and ledger.rows_loaded > 0
             and not exists (select 1 from raw._batch_verdicts as v where v.batch_id = ledger.batch_id)
           group by 1 order by 1""",
        [source],
    ).fetchall()
    return dict(rows)


def record_verdicts(
    conn: duckdb.DuckDBPyConnection, source: str, judged: dict[str, tuple[int, str | None]]
) -> dict[str, str]:
    """Record the verdict of each batch judged together, in one insert: batch -> (rows, the
    failed critical expectations or None). Returns batch -> verdict."""
    now = _now()
    verdicts = {b: "held" if problems and source not in NEVER_HELD else "passed" for b, (_, problems) in judged.items()}
    frame = pl.DataFrame(
        {
            "batch_id": list(judged),
            "source": source,
            "verdict": list(verdicts.values()),
            "rows_validated": [rows for rows, _ in judged.values()],
            "validated_at": now,
            "problems": [problems for _, problems in judged.values()],
        },
        schema_overrides={"rows_validated": pl.Int64, "problems": pl.String},
    )
    insert_frame(conn, "raw._batch_verdicts", frame)
    return verdicts


def held_batches(conn: duckdb.DuckDBPyConnection, source: str | None = None) -> list[dict]:
    """Held batches (oldest first), with their files and rows."""
    ensure_verdicts_table(conn)
    rows = conn.execute(
        """select v.batch_id, v.source, v.rows_validated, v.validated_at, v.problems,
                  list(ledger.source_file order by ledger.source_file) as files
           from raw._batch_verdicts as v
           left join raw._load_ledger as ledger on ledger.batch_id = v.batch_id and ledger.rows_loaded > 0
           where v.verdict = 'held' and (? is null or v.source = ?)
           group by all order by v.validated_at, v.batch_id""",
        [source, source],
    ).fetchall()
    keys = ("batch_id", "source", "rows", "validated_at", "problems", "files")
    return [dict(zip(keys, r, strict=True)) for r in rows]


def _held(conn: duckdb.DuckDBPyConnection, batch_id: str) -> str:
    ensure_verdicts_table(conn)
    row = first_row(conn, "select source, verdict from raw._batch_verdicts where batch_id = ?", [batch_id])
    if row is None:
        raise BatchError(f"no validated batch {batch_id!r} (see `scrm batches` for the held ones)")
    if row[1] != "held":
        raise BatchError(f"batch {batch_id} is {row[1]}, not held: nothing to do")
    return row[0]


def release(conn: duckdb.DuckDBPyConnection, batch_id: str, note: str) -> str:
    """The batch's rows are right after all: they flow from the next run on. Staging dates them
    at the release, so incremental models take them in. Returns the source."""
    source = _held(conn, batch_id)
    conn.execute(
        "update raw._batch_verdicts set verdict = 'released', decided_at = ?, decision_note = ? where batch_id = ?",
        [_now(), note, batch_id],
    )
    return source


def drop(conn: duckdb.DuckDBPyConnection, batch_id: str, note: str) -> tuple[str, int]:
    """Move the batch's rows from raw to the rejects with the reason, and mark its files dropped
    (a dropped file still in the landing folder is not read again while unchanged; fixed, or
    touched, it loads again). Returns (source, rows moved)."""
    source = _held(conn, batch_id)
    reason = f"batch {batch_id} dropped after failing validation: {note}"
    now = _now()
    with transaction(conn):
        moved = first_row(conn, f'select count(*) from raw."{source}" where _batch_id = ?', [batch_id])[0]
        conn.execute(
            f"""insert into raw._rejects (batch_id, source, source_file, _line_number, column_name, reason, record,
                                          rejected_at)
                select _batch_id, ?, _source_file, _line_number, null, ?,
                       cast(to_json(rows) as varchar), ?
                from raw."{source}" as rows where _batch_id = ?""",
            [source, reason, now, batch_id],
        )
        conn.execute(f'delete from raw."{source}" where _batch_id = ?', [batch_id])
        conn.execute(
            """update raw._load_ledger set status = 'dropped', rows_rejected = rows_rejected + rows_loaded,
                   rows_loaded = 0, message = ? where batch_id = ? and status = 'loaded'""",
            [reason, batch_id],
        )
        conn.execute(
            "update raw._batch_verdicts set verdict = 'dropped', decided_at = ?, decision_note = ? where batch_id = ?",
            [now, note, batch_id],
        )
    return source, moved


def describe(batch: dict) -> str:
    """One held batch in a line a person can act on."""
    files = ", ".join(batch["files"][:3]) + (f" and {len(batch['files']) - 3} more" if len(batch["files"]) > 3 else "")
    return (
        f"batch {batch['batch_id']} of {batch['source']} ({batch['rows']:,} rows from {files}) held since "
        f"{batch['validated_at']:%Y-%m-%d %H:%M} UTC: {batch['problems']}"
    )
