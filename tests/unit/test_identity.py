"""The clustering and the preview's comparison, on hand-made graphs."""

import polars as pl

from scrm.preview import compare
from transform.identity import resolve


def edges(*links):
    return pl.DataFrame(links, schema=["record_key_from", "record_key_to", "priority"], orient="row")


def identities(*rows):
    return pl.DataFrame(rows, schema=["record_key", "identity", "value"], orient="row")


def as_groups(clusters: pl.DataFrame) -> set:
    return {frozenset(g) for g in clusters.group_by("cluster_key").agg("record_key")["record_key"].to_list()}


def test_a_link_that_would_join_two_unionids_is_refused():
    # a-b and c-d share a unionid each (strong links); b-c share a phone (a weak link) that would
    # put unionids U1 and U2 in one fan: two people, so it is refused
    result = resolve(
        pl.Series(["a", "b", "c", "d"]),
        edges(("b", "a", 1), ("d", "c", 1), ("c", "b", 6)),
        identities(("a", "unionid", "U1"), ("c", "unionid", "U2")),
    )
    assert as_groups(result) == {frozenset({"a", "b"}), frozenset({"c", "d"})}
    assert set(result["component_key"]) == {"a"}, "one component, two fans: a refused merge"
    assert dict(zip(result["record_key"], result["cluster_size"], strict=True)) == {"a": 2, "b": 2, "c": 2, "d": 2}


def test_stronger_links_are_taken_first():
    # x holds account T1 on tmall, z holds T2; y is linked to z by a card (priority 2) and to x by a
    # phone (priority 6): the card wins, the phone is refused
    result = resolve(
        pl.Series(["x", "y", "z"]),
        edges(("y", "x", 6), ("y", "z", 2)),
        identities(("x", "platform_buyer:tmall", "T1"), ("z", "platform_buyer:tmall", "T2")),
    )
    assert as_groups(result) == {frozenset({"x"}), frozenset({"y", "z"})}


def test_a_component_without_conflict_is_one_fan_whatever_it_holds():
    result = resolve(
        pl.Series(["a", "b", "c", "e"]),
        edges(("b", "a", 6), ("c", "b", 1)),
        identities(("a", "unionid", "U1"), ("c", "unionid", "U1"), ("a", "platform_buyer:jd", "J1")),
    )
    assert as_groups(result) == {frozenset({"a", "b", "c"}), frozenset({"e"})}
    assert (result["cluster_key"] == result["component_key"]).all()


def test_the_preview_counts_merges_splits_and_moves():
    # now: F1 = r1 r2, F2 = r3, F3 = r4 r5 r6. With the change: r1 r2 r3 together (F2 merges
    # into F1: r3 moves), r4 r5 and r6 apart (F3 splits: r6 moves), r7 new.
    before = pl.DataFrame(
        {"record_key": ["r1", "r2", "r3", "r4", "r5", "r6"], "fan_id": ["F1", "F1", "F2", "F3", "F3", "F3"]}
    )
    after = pl.DataFrame(
        {
            "record_key": ["r1", "r2", "r3", "r4", "r5", "r6", "r7"],
            "cluster_key": ["r1", "r1", "r1", "r4", "r4", "r6", "r7"],
        }
    )
    f = compare(before, after)
    assert (f["fans_before"], f["fans_after"]) == (3, 4)
    assert (f["merges"], f["fans_merged_away"], f["splits"], f["records_moved"], f["new_records"]) == (1, 1, 1, 2, 1)
    assert f["largest_before"][0] == ("F3", 3) and f["largest_after"][0] == ("F1", 3)
    assert ("(new fan)", 1) in f["largest_after"]
