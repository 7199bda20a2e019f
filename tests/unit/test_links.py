"""The review of probable links: what `scrm links` lists and what a decision writes to the seeds."""

import csv

import duckdb
import pytest

from common.errors import UserError
from scrm import links

HEADER = {"accepted": "record_key_a,record_key_b,rule_name,reason\n", "never": "record_key_a,record_key_b,reason\n"}


@pytest.fixture
def review(tmp_path, monkeypatch):
    """A warehouse with three candidates, and empty decision seeds in a temporary folder."""
    monkeypatch.setattr(links, "ACCEPTED", tmp_path / "accepted.csv")
    monkeypatch.setattr(links, "NEVER_LINK", tmp_path / "never.csv")
    links.ACCEPTED.write_text(HEADER["accepted"])
    links.NEVER_LINK.write_text(HEADER["never"] + "member_cards:1,member_cards:2,two sisters\n")
    conn = duckdb.connect()
    conn.execute("create schema marts")
    conn.execute("""create table marts.probable_fan_links as select * from (values
        ('L1', 'masked_phone_usual_receiver', 'pending', 0.9, '138****5678', '王', '上海', 9, 10, 0, 1,
         'Fa', 'Fb', 'online_orders:1', 'member_cards:7'),
        ('L2', 'masked_phone_one_delivery', 'pending', 0.5, '139****0001', '李', '北京', 1, 1, 3, 2,
         'Fc', 'Fd', 'online_orders:2', 'member_cards:8'),
        ('L3', 'masked_phone_usual_receiver', 'accepted', 0.8, '137****1111', '张', '广州', 2, 2, 0, 1,
         'Fe', 'Fe', 'online_orders:3', 'member_cards:9'))
        as t(link_id, rule_name, status, score, fragment, surname, city, deliveries, account_deliveries,
             time_gap_days, numbers_with_fragment, fan_id_a, fan_id_b, record_key_a, record_key_b)""")
    return conn


def rows(path):
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))[1:]


def test_the_queue_lists_pending_links_best_first_with_personal_data_masked(review):
    shown, total = links.pending(review)
    assert [link["link_id"] for link in shown] == ["L1", "L2"] and total == 2
    line = links.describe(shown[0])
    assert "138****5678" in line and "王**" in line and "9/10 deliveries" in line
    assert links.pending(review, rule="masked_phone_one_delivery", limit=5)[0][0]["link_id"] == "L2"


def test_accepting_writes_the_pair_once_and_rejecting_takes_it_back(review):
    links.decide(review, ["L1"], "accept", "ops: checked the orders")
    links.decide(review, ["L1"], "accept", "again")
    assert rows(links.ACCEPTED) == [
        ["online_orders:1", "member_cards:7", "masked_phone_usual_receiver", "ops: checked the orders"]
    ]
    links.decide(review, ["L1"], "reject", "ops: a relative's phone")
    assert rows(links.ACCEPTED) == []
    assert rows(links.NEVER_LINK) == [
        ["member_cards:1", "member_cards:2", "two sisters"],
        ["online_orders:1", "member_cards:7", "ops: a relative's phone"],
    ]
    links.decide(review, ["L1"], "accept", "ops: it was him after all")
    assert rows(links.NEVER_LINK) == [["member_cards:1", "member_cards:2", "two sisters"]], "the engineer's pair stays"
    assert len(rows(links.ACCEPTED)) == 1


def test_an_unknown_link_id_is_named_and_nothing_is_written(review):
    with pytest.raises(UserError, match="L9"):
        links.decide(review, ["L1", "L9"], "accept", "typo")
    assert rows(links.ACCEPTED) == []
