"""Dagster's SQLite event log (one database per run and an index database, the files the UI
reads), with a connection kept open per database instead of a new one per event. Dagster's own
class opens, sets up and closes a connection for every event it stores, twice for an asset event
(the run's database and the index), and a run stores 360 events when nothing is new and about
760 on a day with new data: at 1M people that was 3 s of a 10 s run with nothing new. A
connection left open holds no lock in SQLite's WAL mode, so the UI and other runs read and write
the same files as before. Set in dagster_home/dagster.yaml."""

import os
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
)
from sqlalchemy import Connection, Engine, create_engine

OPEN_DATABASES = 8  # a long-lived process (the UI) reads many runs: the least recent are closed


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """`base_dir` defaults to where Dagster keeps the event log of DAGSTER_HOME, so the runs
    stored before it are read as they were."""

    def __init__(self, base_dir: str | None = None, inst_data=None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()  # first: a new index is built in __init__
        super().__init__(base_dir or str(Path(os.environ["DAGSTER_HOME"]) / "history" / "runs"), inst_data)

    @classmethod
    def config_type(cls):
        return {"base_dir": dg.Field(dg.StringSource, is_required=False)}

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        return cls(inst_data=inst_data, **config_value)

    @contextmanager
    def _pooled(self, shard: str) -> Iterator[Connection]:
        # the lock Dagster's class takes around every connection: one database at a time
        with self._db_lock:
            engine = self._engines.pop(shard, None)
            if engine is None:
                engine = create_engine(
                    self.conn_string_for_shard(shard),
                    pool_size=1,
                    connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
                )
                if shard not in self._initialized_dbs:
                    self._initdb(engine)
                    self._initialized_dbs.add(shard)
            self._engines[shard] = engine  # the most recent last
            while len(self._engines) > OPEN_DATABASES:
                self._engines.popitem(last=False)[1].dispose()
            with engine.connect() as conn, conn.begin():
                yield conn

    def run_connection(self, run_id: str | None = None):
        return self._pooled(run_id)

    def index_connection(self):
        return self._pooled(INDEX_SHARD_NAME)

    def _close(self) -> None:
        with self._db_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()

    def wipe(self) -> None:
        self._close()  # before the files are deleted: a connection would go on writing to a deleted one
        super().wipe()

    def dispose(self) -> None:
        self._close()
        super().dispose()
