"""Identity accuracy against the generator's truth: pairwise precision, recall and F1.

A pair is two records put in the same fan (predicted) or belonging to the same person (true).
Counting pairs per (fan, person) cell, per fan and per person gives the figures without
enumerating pairs, so it runs at 10M records.
"""

from pathlib import Path

import duckdb
import polars as pl

from transform.identity import cluster, resolve


def _pairs(counts: pl.Series | pl.Expr):
    if isinstance(counts, pl.Expr):
        return counts * (counts - 1) // 2
    n = counts.cast(pl.Int64)
    return int((n * (n - 1) // 2).sum())


def pairwise_accuracy(fan_records: pl.DataFrame, truth: pl.DataFrame) -> dict:
    """fan_records: source, source_record_id, fan_id; truth: source, source_record_id, person_id."""
    joined = fan_records.join(truth, on=["source", "source_record_id"], how="inner")
    together = _pairs(joined.group_by("fan_id", "person_id").len()["len"])
    predicted = _pairs(joined.group_by("fan_id").len()["len"])
    actual = _pairs(joined.group_by("person_id").len()["len"])
    precision = together / predicted if predicted else 1.0
    recall = together / actual if actual else 1.0
    sizes = joined.group_by("fan_id").len()["len"]
    people_per_fan = joined.group_by("fan_id").agg(pl.col("person_id").n_unique().alias("people"))
    mixed = people_per_fan.filter(pl.col("people") > 1)
    return {
        "records": joined.height,
        "records_without_truth": fan_records.height - joined.height,
        "fans": joined["fan_id"].n_unique(),
        "people": joined["person_id"].n_unique(),
        "pairs_predicted": predicted,
        "pairs_true": actual,
        "pairs_correct": together,
        "precision": round(precision, 6),
        "recall": round(recall, 6),
        "f1": round(2 * precision * recall / (precision + recall), 6) if precision + recall else 0.0,
        "largest_fan_records": int(sizes.max()) if sizes.len() else 0,
        "fans_mixing_people": mixed.height,
        "most_people_in_one_fan": int(people_per_fan["people"].max()) if people_per_fan.height else 0,
    }


def by_phenomenon(fan_records: pl.DataFrame, truth: pl.DataFrame, reachable: pl.DataFrame) -> dict:
    """Precision, recall and recall of reachable pairs of the pairs that involve a record showing
    each phenomenon (truth's `phenomena`): pairs with at least one such record are all pairs
    minus the pairs among the others, so nothing is enumerated."""
    joined = fan_records.join(truth, on=["source", "source_record_id"]).join(
        reachable.rename({"fan_id": "group"}), on=["source", "source_record_id"]
    )
    tags = sorted({t for tags in truth["phenomena"].to_list() for t in tags})
    out = {}
    for tag in tags:
        marked = joined.with_columns(t=pl.col("phenomena").list.contains(tag).cast(pl.Int64))
        if marked["t"].sum() == 0:
            continue

        def involving(*keys: str, marked: pl.DataFrame = marked) -> int:
            cells = marked.group_by(*keys).agg(n=pl.len(), t=pl.col("t").sum())
            return int(cells.select((_pairs(pl.col("n")) - _pairs(pl.col("n") - pl.col("t"))).sum()).item())

        predicted, correct = involving("fan_id"), involving("fan_id", "person_id")
        true, reachable_true = involving("person_id"), involving("group")
        reached = involving("fan_id", "group")
        out[tag] = {
            "records": int(marked["t"].sum()),
            "pairs_predicted": predicted,
            "pairs_true": true,
            "precision": round(correct / predicted, 6) if predicted else 1.0,
            "recall": round(correct / true, 6) if true else 1.0,
            "recall_of_reachable": round(reached / reachable_true, 6) if reachable_true else 1.0,
        }
    return out


def reachable_partition(identifiers: pl.DataFrame, truth: pl.DataFrame, evidence_only: bool = True) -> pl.DataFrame:
    """What an exact-match linker could join without ever merging two people: each person's
    records connected by identifier values that no other person's records carry.

    With `evidence_only`, a value counts only where the data shows it names the record's own
    person: not the number on a walk-in receipt (a POS sale without a card: the till may have
    typed the store's number, a cashier's, a relative's), and not a delivery's mobile unless the
    account's deliveries agree the receiver is the buyer (one delivery alone may be a gift). No
    linker can use those without merging people, since the data does not tell the two apart.
    identifiers: record_key, identifier_type, identifier_value, is_walk_in, is_unconfirmed_receiver.
    Returns source, source_record_id, fan_id (the reachable group)."""
    keyed = truth.with_columns(record_key=pl.concat_str("source", pl.lit(":"), "source_record_id"))
    ids = identifiers.join(keyed.select("record_key", "person_id"), on="record_key", how="inner")
    if evidence_only:
        ids = ids.filter(~pl.col("is_walk_in") & ~pl.col("is_unconfirmed_receiver"))
    private = ids.filter(pl.col("person_id").n_unique().over("identifier_type", "identifier_value") == 1)
    anchored = private.with_columns(anchor=pl.col("record_key").min().over("identifier_type", "identifier_value"))
    edges = anchored.filter(pl.col("record_key") != pl.col("anchor"))
    groups = cluster(keyed["record_key"], edges["record_key"], edges["anchor"])
    return keyed.join(groups, on="record_key").select("source", "source_record_id", fan_id="cluster_key")


def measure(conn: duckdb.DuckDBPyConnection, truth_dir: Path) -> dict:
    """Accuracy of the warehouse's fans against truth; recall against what was reachable with
    evidence (and, for comparison, against every value private to one person); and all of it
    per phenomenon of the sample (gifts, reissued numbers, till numbers, ...)."""
    fan_records = conn.sql("select source, source_record_id, fan_id from marts.fan_records").pl()
    identifiers = conn.sql(
        """select record_key, identifier_type, identifier_value, is_walk_in, is_unconfirmed_receiver
           from intermediate.int_identity__identifiers where is_current"""
    ).pl()
    truth = pl.read_parquet(Path(truth_dir) / "records.parquet")
    figures = pairwise_accuracy(fan_records, truth.drop("phenomena", strict=False))
    for name, evidence_only in (("", True), ("_private_values", False)):
        reachable = reachable_partition(identifiers, truth, evidence_only)
        against = pairwise_accuracy(fan_records, reachable.rename({"fan_id": "person_id"}))
        figures[f"pairs_reachable{name}"] = against["pairs_true"]
        figures[f"reachable{name}_share_of_true_pairs"] = round(against["pairs_true"] / figures["pairs_true"], 6)
        figures[f"recall_of_reachable{name}"] = against["recall"]
        if evidence_only and "phenomena" in truth.columns:
            figures["by_phenomenon"] = by_phenomenon(fan_records, truth, reachable)
    figures.update(probable_link_accuracy(conn, fan_records, truth.drop("phenomena", strict=False)))
    return figures


def deterministic_partition(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The fans exact identifiers alone give: the clustering of int_identity__clusters run again
    without the accepted probable links. Returns source, source_record_id, fan_id."""
    records = conn.sql("select record_key, source, source_record_id from marts.fan_records").pl()
    edges = conn.sql("select record_key_from, record_key_to, priority from intermediate.int_identity__edges").pl()
    identities = conn.sql(
        "select record_key, identity, identity_value as value from intermediate.int_identity__identities"
    ).pl()
    clusters = resolve(records["record_key"], edges, identities)
    return records.join(clusters, on="record_key").select("source", "source_record_id", fan_id="cluster_key")


def probable_link_accuracy(conn: duckdb.DuckDBPyConnection, fan_records: pl.DataFrame, truth: pl.DataFrame) -> dict:
    """Identity with exact identifiers only, and with the accepted probable links (the fans now);
    per rule, the precision of its pending queue (are the two records one person?) and the
    fans if every pending link of the rule were accepted as well (merged without the
    clustering's identity check, so a lower bound of what acceptance gives)."""
    deterministic = pairwise_accuracy(deterministic_partition(conn), truth)
    links = conn.sql(
        "select rule_name, status, record_key_a, record_key_b, fan_id_a, fan_id_b from marts.probable_fan_links"
    ).pl()
    people = truth.select(record_key=pl.concat_str("source", pl.lit(":"), "source_record_id"), person_id="person_id")
    links = links.join(people.rename({"record_key": "record_key_a", "person_id": "person_a"}), on="record_key_a").join(
        people.rename({"record_key": "record_key_b", "person_id": "person_b"}), on="record_key_b"
    )
    fans = fan_records["fan_id"].unique()
    rules = {}
    for rule in sorted(links["rule_name"].unique()):
        mine = links.filter(pl.col("rule_name") == rule)
        pending = mine.filter(pl.col("status") == "pending")
        merged = cluster(fans, pending["fan_id_a"], pending["fan_id_b"])
        if_accepted = pairwise_accuracy(
            fan_records.join(merged.select(fan_id="record_key", merged="cluster_key"), on="fan_id").select(
                "source", "source_record_id", fan_id="merged"
            ),
            truth,
        )
        right = int((pending["person_a"] == pending["person_b"]).sum())
        rules[rule] = {
            "pending": pending.height,
            "pending_precision": round(right / pending.height, 6) if pending.height else 1.0,
            "accepted": mine.filter(pl.col("status") == "accepted").height,
            "rejected": mine.filter(pl.col("status") == "rejected").height,
            "if_all_pending_accepted": {k: if_accepted[k] for k in ("precision", "recall", "fans_mixing_people")},
        }
    return {
        "deterministic_only": {k: deterministic[k] for k in ("precision", "recall", "fans")},
        "probable_links": rules,
    }


def majority_person(fan_records: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    """fan_id -> the person most of the fan's records belong to (ties: the smallest person id)."""
    joined = fan_records.join(truth, on=["source", "source_record_id"], how="inner")
    counts = joined.group_by("fan_id", "person_id").len()
    counts = counts.sort(["fan_id", "len", "person_id"], descending=[False, True, False])
    return counts.unique(subset=["fan_id"], keep="first", maintain_order=True).select("fan_id", "person_id")


def _precision_recall(predicted: set, actual: set) -> dict:
    correct = len(predicted & actual)
    return {
        "predicted": len(predicted),
        "true": len(actual),
        "correct": correct,
        "precision": round(correct / len(predicted), 6) if predicted else 1.0,
        "recall": round(correct / len(actual), 6) if actual else 1.0,
    }


def referral_accuracy(credited: pl.DataFrame, truth: pl.DataFrame, referrals: pl.DataFrame) -> dict:
    """credited: referrer_record_key, referee_record_key of the warehouse's credited referrals;
    truth: source, source_record_id, person_id; referrals: the truth's referrer_person_id,
    referee_person_id. A credited referral is right when the people behind its two records are
    a true referrer and referee (so an identity error elsewhere in a fan does not count here)."""
    people = truth.select(record_key=pl.concat_str("source", pl.lit(":"), "source_record_id"), person_id="person_id")
    as_people = credited.join(
        people.rename({"record_key": "referrer_record_key", "person_id": "referrer"}), on="referrer_record_key"
    ).join(people.rename({"record_key": "referee_record_key", "person_id": "referee"}), on="referee_record_key")
    predicted = set(zip(as_people["referrer"], as_people["referee"], strict=True))
    actual = set(zip(referrals["referrer_person_id"], referrals["referee_person_id"], strict=True))
    return {**_precision_recall(predicted, actual), "predicted_without_truth": credited.height - as_people.height}


def fake_follower_accuracy(suspected_fans: pl.Series, fan_person: pl.DataFrame) -> dict:
    """Suspected bought followers against the generator's bought followers (person ids 'F...')."""
    fakes = set(fan_person.filter(pl.col("person_id").str.starts_with("F"))["fan_id"])
    return _precision_recall(set(suspected_fans), fakes)


CONSENT_SOURCES = {"sms": "member_cards", "email": "member_cards", "wechat": "wechat_followers"}


def consent_violations(contactable: pl.DataFrame, fan_records: pl.DataFrame, truth: pl.DataFrame, consent) -> int:
    """People who did not consent on a channel (or withdrew) whose own account for it (member
    card for SMS and e-mail, WeChat follower for WeChat) sits in a fan marked contactable there.
    contactable: fan_id, channel (the channels each fan is contactable on)."""
    sources = pl.DataFrame({"channel": list(CONSENT_SOURCES), "source": list(CONSENT_SOURCES.values())})
    refused = consent.filter(~pl.col("opted_in")).select("person_id", "channel").join(sources, on="channel")
    accounts = refused.join(truth, on=["person_id", "source"]).join(fan_records, on=["source", "source_record_id"])
    bad = accounts.join(contactable, on=["fan_id", "channel"])
    return bad.select("person_id", "channel").unique().height


def measure_marts(conn: duckdb.DuckDBPyConnection, truth_dir: Path) -> dict:
    """The marts against truth: referral edges, suspected bought followers, and consent."""
    truth_dir = Path(truth_dir)
    fan_records = conn.sql("select source, source_record_id, fan_id from marts.fan_records").pl()
    credited = conn.sql(
        "select referrer_record_key, referee_record_key from marts.referral_edges where is_credited"
    ).pl()
    suspected = conn.sql("select fan_id from marts.fan_trust where is_suspected_fake").pl()["fan_id"]
    contactable = conn.sql("""
        select fan_id, 'sms' as channel from marts.fans where is_sms_contactable
        union all select fan_id, 'email' from marts.fans where is_email_contactable
        union all select fan_id, 'wechat' from marts.fans where is_wechat_contactable""").pl()
    truth = pl.read_parquet(truth_dir / "records.parquet")
    fan_person = majority_person(fan_records, truth)
    return {
        "referrals": referral_accuracy(credited, truth, pl.read_parquet(truth_dir / "referrals.parquet")),
        "suspected_fakes": fake_follower_accuracy(suspected, fan_person),
        "consent_violations": consent_violations(
            contactable, fan_records, truth, pl.read_parquet(truth_dir / "consent.parquet")
        ),
    }
