"""The SQLAlchemy dialect Great Expectations validates the warehouse through: duckdb-engine's,
with transactions left to DuckDB.

Great Expectations fetches a query's rows after it has handed its connection back; SQLAlchemy
rolls back on that hand-back, and a DuckDB rollback drops a result not fetched yet, so every
expectation came back empty ("IndexError" in `resolve_metric_bundle`, great_expectations issue
#11579). A validation only reads: here each statement is its own transaction in DuckDB, and the
result survives. Imported only when a suite runs (SQLAlchemy and Great Expectations are slow to
import).
"""

import duckdb
from duckdb_engine import ConnectionWrapper, Dialect
from sqlalchemy.dialects import registry

URL = "duckdb+scrm_gx://"


class ReadOnlyDuckDBDialect(Dialect):
    supports_statement_cache = True

    def do_begin(self, dbapi_connection) -> None:
        pass  # DuckDB commits each statement by itself

    def do_rollback(self, dbapi_connection) -> None:
        pass  # nothing to undo: only reads go through here, and a rollback would drop their result

    def do_commit(self, dbapi_connection) -> None:
        pass


registry.register("duckdb.scrm_gx", __name__, "ReadOnlyDuckDBDialect")


def engine_kwargs(conn: duckdb.DuckDBPyConnection) -> dict:
    """`create_engine` arguments for connections to the database `conn` has open (a DuckDB file
    has one writing process: the validation shares the run's database instead of opening it)."""
    return {"creator": lambda: ConnectionWrapper(conn.cursor())}
