"""The generator: deterministic, counts that match its files, the noise DOMAIN.md lists."""

import hashlib
import json
from pathlib import Path

import polars as pl
import pytest

from sample.generator import GeneratorConfig, generate


def digest_tree(root: Path) -> dict:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample")
    generate(GeneratorConfig(people=1000, seed=7), out, progress=lambda _: None)
    return out


def test_same_seed_same_bytes(sample, tmp_path):
    generate(GeneratorConfig(people=1000, seed=7), tmp_path, progress=lambda _: None)
    assert digest_tree(sample / "landing") == digest_tree(tmp_path / "landing")


def test_manifest_counts_match_the_files(sample):
    manifest = json.loads((sample / "truth" / "manifest.json").read_text())
    for source, entry in manifest["sources"].items():
        files = [p for p in (sample / "landing" / source).iterdir()]
        assert len(files) == entry["files"], source
        lines = 0
        for path in files:
            text = path.read_bytes().decode("gbk" if source == "member_cards" else "utf-8")
            lines += text.count("\n") - (0 if path.suffix == ".jsonl" else 1)
        assert lines == entry["rows"], source


def test_member_cards_are_gbk_with_chinese_headers(sample):
    path = next((sample / "landing" / "member_cards").glob("*.csv"))
    header = path.read_bytes().decode("gbk").splitlines()[0]
    assert header.startswith("会员卡号,姓名,手机号")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")


def test_the_noise_is_there(sample):
    landing = sample / "landing"
    orders = pl.concat([pl.read_csv(p, infer_schema=False) for p in (landing / "online_orders").glob("*.csv")])
    receipts = pl.concat([pl.read_csv(p, infer_schema=False) for p in (landing / "pos_receipts").glob("*.csv")])
    mobiles = orders["receiver_mobile"].drop_nulls()
    assert mobiles.str.contains(r"^\d{3}\*{4}\d{4}$").sum() > 0, "masked numbers"
    assert mobiles.str.contains("[０-９]").sum() > 0, "full-width digits"
    assert mobiles.str.starts_with("+86 ").sum() > 0 and mobiles.str.starts_with("86-").sum() > 0
    assert (orders["status"] == "refunded").sum() > 0
    assert receipts["phone"].is_in(["13800000000", "13888888888", "13900000000"]).sum() > 1, "junk numbers"
    assert (receipts["receipt_type"] == "return").sum() > 0
    snapshot = sorted((landing / "wechat_followers").glob("*.jsonl"))[0].read_text().splitlines()
    followers = pl.DataFrame([json.loads(line) for line in snapshot if line.endswith("}")], infer_schema_length=None)
    assert followers["unionid"].null_count() > 0 and followers["unionid"].drop_nulls().len() > 0
    assert followers["qr_scene_str"].str.starts_with("ref_").sum() > 0


def test_truth_describes_people_referrals_and_consent(sample):
    truth = sample / "truth"
    records = pl.read_parquet(truth / "records.parquet")
    assert records.columns == ["source", "source_record_id", "person_id", "phenomena"]
    assert records.select(pl.struct("source", "source_record_id").is_unique().all()).item()
    referrals = pl.read_parquet(truth / "referrals.parquet")
    assert set(referrals["channel"]) <= {"wechat_qr", "invite_code", "order_code"}
    # multi-level: somebody referred is also a referrer
    assert referrals["referee_person_id"].is_in(referrals["referrer_person_id"].implode()).sum() > 0
    consent = pl.read_parquet(truth / "consent.parquet")
    assert set(consent["channel"]) == {"sms", "email", "wechat"}
    assert consent["opted_in"].sum() > 0 and (~consent["opted_in"]).sum() > 0
    assert not (sample / "landing" / "truth").exists()


def test_a_sample_bigger_than_a_shard_is_written_shard_by_shard(tmp_path, monkeypatch):
    """Shards use disjoint id ranges and append to the same files: the manifest still matches
    the files and every record and person id is unique."""
    monkeypatch.setattr("sample.generator.SHARD_PEOPLE", 200)
    manifest = generate(GeneratorConfig(people=500, seed=3), tmp_path, progress=lambda _: None)
    test_manifest_counts_match_the_files(tmp_path)
    records = pl.read_parquet(tmp_path / "truth" / "records.parquet")
    assert records.select(pl.struct("source", "source_record_id").is_unique().all()).item()
    people = pl.read_parquet(tmp_path / "truth" / "people.parquet")
    assert people.height == 500 and people["person_id"].is_unique().all()
    assert people["phone"].filter(~people["shares_family_phone"]).is_unique().all()
    assert manifest["sources"]["pos_receipts"]["files"] == len(list((tmp_path / "landing" / "pos_receipts").iterdir()))


def test_the_habits_of_real_exports_are_there_and_in_the_truth(sample):
    """What made the first generator flatter the rules: each is there, and the truth says where."""
    landing, truth = sample / "landing", sample / "truth"
    people = pl.read_parquet(truth / "people.parquet")
    records = pl.read_parquet(truth / "records.parquet")
    tags = records.explode("phenomena").group_by("phenomena").len()
    tagged = dict(tags.drop_nulls().iter_rows())
    for phenomenon in ("gift", "household_phone", "recycled_number", "second_card", "reissued_card", "staff_number"):
        assert tagged.get(phenomenon, 0) > 0, phenomenon
    # the top five surnames are about a third of people (China: 31%)
    top = people.group_by("surname").len().sort("len", descending=True).head(5)["len"].sum()
    assert 0.2 < top / people.height < 0.45
    # households share an address, and children the head's surname
    households = (
        people.drop_nulls("household")
        .group_by("household")
        .agg(pl.col("address").n_unique().alias("addresses"), pl.col("surname").n_unique().alias("surnames"), pl.len())
    )
    assert households.height > 0 and (households["addresses"] == 1).all()
    assert (households["surnames"] < households["len"]).sum() > 0
    # a reissued number: its new owner is somebody else, with another name
    reissued = people.drop_nulls("number_reissued_from").join(
        people.select(number_reissued_from="person_id", old_name="name", given_up="old_phone"),
        on="number_reissued_from",
    )
    assert reissued.height > 0 and (reissued["phone"] == reissued["given_up"]).all()
    # nicknames: the WeChat and Weibo names are not the people's names (a few are)
    lines = [line for p in (landing / "wechat_followers").glob("*.jsonl") for line in p.read_text().splitlines()]
    rows = [json.loads(line) for line in lines if line.endswith("}")]  # not the cut-off bad lines
    followers = pl.DataFrame(
        [(r["openid"], r.get("nickname")) for r in rows], schema=["openid", "nickname"], orient="row"
    ).drop_nulls()
    named = followers.join(
        records.filter(pl.col("source") == "wechat_followers").select(openid="source_record_id", person_id="person_id"),
        on="openid",
    ).join(people.select("person_id", "name"), on="person_id")
    assert 0 < (named["nickname"] == named["name"]).mean() < 0.15
    # gifts: the receiver on the delivery is somebody else than the buyer
    orders = pl.concat([pl.read_csv(p, infer_schema=False) for p in (landing / "online_orders").glob("*.csv")])
    gifts = records.filter(pl.col("phenomena").list.contains("gift")).select(
        order_id="source_record_id", person_id="person_id"
    )
    delivered = orders.join(gifts, on="order_id").join(people.select("person_id", "name"), on="person_id")
    unmasked = delivered.filter(~pl.col("receiver_name").str.contains("*", literal=True))
    assert unmasked.height > 0 and (unmasked["receiver_name"] != unmasked["name"]).mean() > 0.9
    # till numbers: cashiers are people of the sample, typed at very different paces
    receipts = pl.concat([pl.read_csv(p, infer_schema=False) for p in (landing / "pos_receipts").glob("*.csv")])
    cashiers = people.drop_nulls("cashier_at_store")
    typed = receipts.filter(pl.col("member_card_no").is_null()).join(cashiers.select(phone="phone"), on="phone")
    counts = typed.group_by("phone").len()["len"]
    assert cashiers.height > 0 and counts.max() >= 3 * counts.min()
    # second cards: the same person under one name on two cards
    assert (people["cards"] == 2).sum() > 0
