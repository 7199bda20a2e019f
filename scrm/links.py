"""Review of probable links: the pending candidates of `marts.probable_fan_links`, and the
decisions a person takes on them, written to the identity seeds the next run reads.

Accepting a link appends its two records to `identity_probable_accepted.csv` (an edge with the
rule's name from the next run on). Rejecting one appends them to `identity_never_link.csv` and
takes back an acceptance, so the pair never links and, if it had, the fan splits on the next run.
Either decision replaces the other for the same pair.
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb

from common.errors import UserError
from orchestration.settings import ROOT

SEEDS = ROOT / "dbt_project" / "seeds" / "identity"
ACCEPTED = SEEDS / "identity_probable_accepted.csv"
NEVER_LINK = SEEDS / "identity_never_link.csv"

COLUMNS = """link_id, rule_name, status, score, fragment, surname, city, deliveries, account_deliveries,
    time_gap_days, numbers_with_fragment, fan_id_a, fan_id_b, record_key_a, record_key_b"""


def _rows(conn: duckdb.DuckDBPyConnection, where: str, params: list) -> list[dict]:
    try:
        result = conn.execute(f"select {COLUMNS} from marts.probable_fan_links where {where}", params)
    except duckdb.CatalogException:
        raise UserError("the warehouse has no marts.probable_fan_links yet (run the pipeline first)") from None
    names = [d[0] for d in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def pending(conn: duckdb.DuckDBPyConnection, rule: str | None = None, limit: int = 20) -> tuple[list[dict], int]:
    """The pending candidates, best score first (at most `limit`), and how many are pending."""
    where, params = "status = 'pending'", []
    if rule:
        where, params = where + " and rule_name = ?", [rule]
    rows = _rows(conn, where + " order by score desc, link_id", params)
    return rows[:limit], len(rows)


def describe(link: dict) -> str:
    """One line a reviewer reads: personal data masked (the mobile as the platform showed it,
    the surname only)."""
    gap = f"{link['time_gap_days']} d apart" if link["time_gap_days"] else "overlapping in time"
    return (
        f"{link['link_id']}  {link['rule_name']:<28} score {link['score']:.3f}  {link['fragment']}  "
        f"{link['surname'] or '?'}**  {link['city'] or '?'}  {link['deliveries']}/{link['account_deliveries']} "
        f"deliveries  {gap}  numbers with these digits: {link['numbers_with_fragment']}  "
        f"fans {link['fan_id_a']} + {link['fan_id_b']}"
    )


def _append(path: Path, rows: list[list[str]]) -> None:
    """Appends the rows whose record pair the seed does not hold yet."""
    with path.open(newline="", encoding="utf-8") as f:
        held = {(r[0], r[1]) for r in csv.reader(f)}
    with path.open("a", newline="", encoding="utf-8") as out:
        csv.writer(out, lineterminator="\n").writerows(r for r in rows if (r[0], r[1]) not in held)


def _without(path: Path, pairs: set[tuple[str, str]]) -> int:
    """Removes the rows of these record pairs from a seed; returns how many went."""
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    kept = [rows[0]] + [r for r in rows[1:] if (r[0], r[1]) not in pairs]
    with path.open("w", newline="", encoding="utf-8") as out:
        csv.writer(out, lineterminator="\n").writerows(kept)
    return len(rows) - len(kept)


def decide(conn: duckdb.DuckDBPyConnection, link_ids: list[str], decision: str, note: str) -> list[dict]:
    """Accepts or rejects links by id; returns the links decided. Takes effect on the next run."""
    if decision not in ("accept", "reject"):
        raise ValueError(decision)
    links = _rows(conn, "link_id in (select unnest(?::varchar[]))", [link_ids])
    unknown = sorted(set(link_ids) - {link["link_id"] for link in links})
    if unknown:
        raise UserError(f"no probable link with id {', '.join(unknown)} in marts.probable_fan_links")
    pairs = {(link["record_key_a"], link["record_key_b"]) for link in links}
    if decision == "accept":
        _without(NEVER_LINK, pairs)
        _append(ACCEPTED, [[link["record_key_a"], link["record_key_b"], link["rule_name"], note] for link in links])
    else:
        _without(ACCEPTED, pairs)
        _append(NEVER_LINK, [[a, b, note] for a, b in sorted(pairs)])
    return links
