"""A BI client in another process: query the serving copy through SQLAlchemy and duckdb-engine
(what Superset uses) in a loop until told to stop. Every pass checks the snapshot is complete:
each table has the rows `_serving.published` says it was published with. Writes what it saw."""

import json
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.pool import NullPool


def main(path: str, stop: str, out: str) -> None:
    engine = sa.create_engine(f"duckdb:///{path}", connect_args={"read_only": True}, poolclass=NullPool)
    runs, errors, passes = set(), [], 0
    while not Path(stop).exists():
        try:
            with engine.connect() as conn:
                published = conn.execute(sa.text("select run_id, table_name, row_count from _serving.published"))
                for run_id, table, rows in published.fetchall():
                    found = conn.execute(sa.text(f"select count(*) from {table}")).scalar()
                    if found != rows:
                        errors.append(f"{table}: {found} rows, published with {rows}")
                    runs.add(run_id)
                conn.execute(sa.text("select count(*) from bi.fans")).scalar()
            passes += 1
        except Exception as error:  # every failure is a finding
            errors.append(repr(error))
        time.sleep(0.02)
    Path(out).write_text(json.dumps({"passes": passes, "runs": sorted(runs), "errors": errors}))


if __name__ == "__main__":
    main(*sys.argv[1:4])
