"""Contracts: the real ones load; a bad one fails naming the file and the key."""

import pytest

from ingestion.contracts import ContractError, load_contract, load_contracts
from tests.support.inputs import ORDERS_CONTRACT, write


def test_every_bundled_contract_loads():
    contracts = load_contracts()
    assert set(contracts) == {
        "member_cards",
        "wechat_followers",
        "weibo_followers",
        "social_interactions",
        "online_orders",
        "pos_receipts",
        "erasure_requests",
    }
    assert contracts["member_cards"].encoding == "gbk"
    assert contracts["member_cards"].column("card_no").source == "会员卡号"
    assert contracts["online_orders"].column("receiver_mobile").identifier == "phone"


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (("format: csv", "format: xlsx"), "'format'"),
        (("type: decimal", "type: money"), "'columns.amount_yuan.type'"),
        (("{from: 订单号, type: string", "{frm: 订单号, type: string"), "'columns.order_id.frm'"),
        (("key: order_id", "key: order_no"), "'key'"),
        (('format: "%Y-%m-%d %H:%M:%S", ', ""), "'columns.paid_at.format'"),
        (("true_values: [是], ", ""), "'columns.vip.true_values'"),
        (("min: 0", "min: zero"), "'columns.amount_yuan.min'"),
        (("files:", "file:"), "'file'"),
        (("min: 0", "min: 0, max_length: 0"), "'columns.amount_yuan.max_length'"),
        (("min: 0", "min: 0, column_required: yes please"), "'columns.amount_yuan.column_required'"),
    ],
)
def test_a_bad_contract_names_the_key(tmp_path, change, key):
    old, new = change
    assert old in ORDERS_CONTRACT
    path = write(tmp_path / "bad.yml", ORDERS_CONTRACT.replace(old, new, 1))
    with pytest.raises(ContractError) as error:
        load_contract(path)
    assert key in str(error.value)
    assert "bad.yml" in str(error.value)


def test_unknown_encoding_is_named(tmp_path):
    path = write(tmp_path / "bad.yml", ORDERS_CONTRACT.replace("format: csv", "format: csv\nencoding: gbk2"))
    with pytest.raises(ContractError, match="'encoding'.*gbk2"):
        load_contract(path)


def test_two_contracts_for_one_source_are_refused(tmp_path):
    write(tmp_path / "a.yml", ORDERS_CONTRACT)
    write(tmp_path / "b.yml", ORDERS_CONTRACT)
    with pytest.raises(ContractError, match="already defined"):
        load_contracts(tmp_path)
