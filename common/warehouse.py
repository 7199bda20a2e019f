"""Small helpers every stage uses to talk to the DuckDB warehouse: one home, so each thing is
written once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import polars as pl


def first_row(conn: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> tuple | None:
    """The first row of a query, or None. Fetches everything: DuckDB 2.0 refuses new work on a
    connection while a result is unfinished."""
    rows = conn.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


@contextmanager
def registered(conn: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> Iterator[None]:
    """A polars frame visible to SQL as `name` for the duration of the block."""
    conn.register(name, frame)
    try:
        yield
    finally:
        conn.unregister(name)


def insert_frame(conn: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    """Append a polars frame to a table, matching columns by name."""
    with registered(conn, "_incoming_frame", frame):
        conn.execute(f"insert into {table} by name select * from _incoming_frame")


@contextmanager
def transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Everything in the block lands together, or nothing does."""
    conn.execute("begin transaction")
    try:
        yield
    except BaseException:
        conn.execute("rollback")
        raise
    conn.execute("commit")
