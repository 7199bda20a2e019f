"""The HTTP API connectors against a real HTTP server on loopback (sample.api_simulator) that serves
generated data with paging, an expiring token, injected 500s, 429s, slow answers and malformed
pages. Expected values come from what the server holds, not from the connector."""

import json
import math

import duckdb
import pytest

from ingestion.api import ApiError, HttpClient, HttpPolicy, WeChatApi, pull_shop_orders, pull_wechat_followers
from ingestion.api import retry_after as parse_retry_after
from ingestion.contracts import load_contracts
from ingestion.load import LoadReport, read_cursor
from sample.api_simulator import Fault, SourceApis, start
from sample.generator import GeneratorConfig, generate

CREDENTIALS = {"app_id": "wx-test-app", "app_secret": "s3cret-app-secret", "api_key": "k3y-shop-api-key"}
CONTRACTS = load_contracts()
FOLLOWERS, ORDERS = CONTRACTS["wechat_followers"], CONTRACTS["online_orders"]
CURSOR = "online_orders:/api/orders"


@pytest.fixture(scope="module")
def landing(tmp_path_factory):
    out = tmp_path_factory.mktemp("api_sample")
    generate(GeneratorConfig(people=200, seed=5, bad_row_rate=0), out, progress=lambda _: None)  # bad rows: below
    return out / "landing"


@pytest.fixture
def apis(landing):
    apis = SourceApis.from_landing(landing, **CREDENTIALS)
    server = start(apis)
    apis.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield apis
    server.shutdown()


@pytest.fixture
def conn(tmp_path):
    conn = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    yield conn
    conn.close()


class Recorder:
    """Collects log lines and the waits the client asked for (instead of sleeping)."""

    def __init__(self):
        self.lines, self.waits = [], []

    def log(self, line):
        self.lines.append(line)

    def sleep(self, seconds):
        self.waits.append(seconds)


def http(url, rec, **policy):
    return HttpClient(
        url,
        HttpPolicy(**{"timeout_s": 5, "backoff_s": 0.01, **policy}),
        headers={"X-Api-Key": CREDENTIALS["api_key"]},
        log=rec.log,
        sleep=rec.sleep,
    )


def wechat(apis, rec, **kwargs):
    return WeChatApi(http(apis.url, rec), CREDENTIALS["app_id"], CREDENTIALS["app_secret"], **kwargs)


def following(apis):
    return {o for o, f in apis.followers.items() if int(f.get("subscribe", 1)) == 1}


def raw_followers(conn):
    return conn.execute("select openid, subscribe from raw.wechat_followers").fetchall()


def test_followers_are_paged_by_next_openid_and_detailed_in_batches_of_100(apis, conn):
    apis.list_page_size = 50
    rec = Recorder()
    api = wechat(apis, rec)
    pull_wechat_followers(conn, FOLLOWERS, api, LoadReport("wechat_followers", "b1"))

    expected = following(apis)
    assert len(expected) > 100  # more than one batch
    assert {o for o, s in raw_followers(conn)} == expected
    assert len(raw_followers(conn)) == len(expected)  # each once
    lists = [r for r in apis.requests if r[1] == "/cgi-bin/user/get"]
    assert len(lists) == math.ceil(len(expected) / 50)
    assert [r[2]["next_openid"] for r in lists[1:]] == sorted(expected)[49::50][: len(lists) - 1]
    batches = [len(r[2]["user_list"]) for r in apis.requests if r[1] == "/cgi-bin/user/info/batchget"]
    assert max(batches) == 100 and sum(batches) == len(expected)
    assert api.tokens_fetched == 1


def test_a_token_is_refreshed_before_it_expires_and_when_the_api_says_it_expired(apis, conn):
    now = [0.0]
    rec = Recorder()
    api = wechat(apis, rec, clock=lambda: now[0])
    api.access_token()
    now[0] = 7200 - 299  # inside the refresh margin of a 7,200 s token
    api.access_token()
    assert api.tokens_fetched == 2

    apis.inject(Fault("/cgi-bin/user/info/batchget", "expire_token", after=1))
    pull_wechat_followers(conn, FOLLOWERS, api, LoadReport("wechat_followers", "b1"))
    assert api.tokens_fetched == 3
    assert any("errcode 42001" in line for line in rec.lines)
    assert {o for o, _ in raw_followers(conn)} == following(apis)


def test_a_later_pull_fetches_only_the_followers_who_came_or_left(apis, conn):
    rec = Recorder()
    api = wechat(apis, rec)
    pull_wechat_followers(conn, FOLLOWERS, api, LoadReport("wechat_followers", "b1"))
    leaver, silent_leaver = sorted(following(apis))[3], sorted(following(apis))[5]
    apis.followers[leaver] = {**apis.followers[leaver], "subscribe": 0, "unsubscribe_time": 1793000000}
    apis.followers[silent_leaver] = {**apis.followers[silent_leaver], "subscribe": 0}  # WeChat gives no time
    newcomer = {**apis.followers[sorted(following(apis))[4]], "openid": "oNEWFOLLOWER0001", "subscribe": 1}
    apis.followers[newcomer["openid"]] = newcomer
    apis.requests.clear()

    report = LoadReport("wechat_followers", "b2")
    pull_wechat_followers(conn, FOLLOWERS, api, report)
    asked = [u["openid"] for r in apis.requests if r[1] == "/cgi-bin/user/info/batchget" for u in r[2]["user_list"]]
    assert sorted(asked) == sorted([leaver, silent_leaver, "oNEWFOLLOWER0001"])
    assert report.total("rows_loaded") == 3
    latest = dict(
        conn.execute(
            "select openid, subscribe from raw.wechat_followers where _batch_id like 'b2:%' order by openid"
        ).fetchall()
    )
    assert latest == {leaver: 0, silent_leaver: 0, "oNEWFOLLOWER0001": 1}
    left_at, followed_at = conn.execute(
        "select max(unsubscribe_time), max(subscribe_time) from raw.wechat_followers where openid = ?",
        [silent_leaver],
    ).fetchone()
    assert left_at is not None and left_at > followed_at  # stamped with the pull, so the unfollow is the latest

    again = LoadReport("wechat_followers", "b3")
    pull_wechat_followers(conn, FOLLOWERS, api, again)
    assert again.files == []  # nothing changed, nothing fetched


def orders_in_raw(conn):
    return conn.execute("select count(*), count(distinct (order_id, updated_at)) from raw.online_orders").fetchone()


def test_orders_survive_500s_a_429_a_timeout_and_a_malformed_page(apis, conn):
    rec = Recorder()
    apis.inject(
        Fault("/api/orders", "500", times=2),
        Fault("/api/orders", "429", retry_after="7", after=1),
        Fault("/api/orders", "malformed", after=2),
        Fault("/api/orders", "slow", delay_s=1.5, after=3),
    )
    client = http(apis.url, rec, timeout_s=0.5)
    pull_shop_orders(conn, ORDERS, client, LoadReport("online_orders", "b1"), page_size=25)
    assert orders_in_raw(conn) == (len(apis.orders), len(apis.orders))
    assert 7.0 in rec.waits  # the 429's Retry-After was honoured
    problems = " ".join(rec.lines)
    assert "HTTP 500" in problems and "HTTP 429" in problems
    assert "malformed page" in problems and "no answer within 0.5s" in problems
    assert sum(f.times for f in apis.faults) == 0


def test_a_page_that_keeps_failing_fails_the_pull_and_leaves_the_cursor_after_the_last_good_page(apis, conn):
    rec = Recorder()
    apis.inject(Fault("/api/orders", "500", times=5, after=3))
    with pytest.raises(ApiError, match=r"GET /api/orders: failed after 5 attempts: HTTP 500"):
        pull_shop_orders(conn, ORDERS, http(apis.url, rec), LoadReport("online_orders", "b1"), page_size=10)
    ordered = sorted(apis.orders.values(), key=lambda o: (o["updated_at"], o["order_id"]))
    third_page_end = ordered[29]
    assert json.loads(read_cursor(conn, CURSOR)) == {
        "modified_after": third_page_end["updated_at"],
        "after_order_id": third_page_end["order_id"],
    }
    assert orders_in_raw(conn) == (30, 30)

    pull_shop_orders(conn, ORDERS, http(apis.url, rec), LoadReport("online_orders", "b2"), page_size=10)
    assert orders_in_raw(conn) == (len(apis.orders), len(apis.orders))  # nothing lost, nothing twice


def test_a_refund_of_an_old_order_arrives_on_the_next_pull(apis, conn):
    rec = Recorder()
    pull_shop_orders(conn, ORDERS, http(apis.url, rec), LoadReport("online_orders", "b1"))
    old = min(apis.orders.values(), key=lambda o: o["updated_at"])
    apis.orders[old["order_id"]] = {
        **old,
        "status": "refunded",
        "refund_yuan": old["amount_yuan"],
        "updated_at": "2026-11-02 10:00:00",
    }
    report = LoadReport("online_orders", "b2")
    pull_shop_orders(conn, ORDERS, http(apis.url, rec), report)
    assert report.total("rows_loaded") == 1
    got = conn.execute(
        "select order_id, status, cast(refund_yuan as varchar) from raw.online_orders where _batch_id like 'b2:%'"
    ).fetchall()
    assert got == [(old["order_id"], "refunded", old["amount_yuan"])]
    nothing = LoadReport("online_orders", "b3")
    pull_shop_orders(conn, ORDERS, http(apis.url, rec), nothing)
    assert nothing.files == []


def test_a_bad_order_in_a_page_goes_to_the_rejects_with_its_page_line_and_column(apis, conn):
    rec = Recorder()
    bad = sorted(apis.orders.values(), key=lambda o: (o["updated_at"], o["order_id"]))[12]
    apis.orders[bad["order_id"]] = {**bad, "amount_yuan": "12,3O"}
    pull_shop_orders(conn, ORDERS, http(apis.url, rec), LoadReport("online_orders", "b1"), page_size=10)
    rejects = conn.execute("select source_file, _line_number, column_name, reason from raw._rejects").fetchall()
    assert len(rejects) == 1
    page, line, column, reason = rejects[0]
    assert page.startswith("api:/api/orders after ") and line == 3 and column == "amount_yuan"
    assert "'12,3O' is not a valid decimal" in reason
    assert orders_in_raw(conn)[0] == len(apis.orders) - 1


def test_secrets_never_reach_a_message_or_the_warehouse(apis, conn):
    rec = Recorder()
    apis.inject(Fault("/cgi-bin/user/get", "500", times=1), Fault("/api/orders", "500", times=5))
    api = wechat(apis, rec)
    pull_wechat_followers(conn, FOLLOWERS, api, LoadReport("wechat_followers", "b1"))
    with pytest.raises(ApiError) as failed:
        pull_shop_orders(conn, ORDERS, http(apis.url, rec), LoadReport("online_orders", "b2"))
    secrets = [CREDENTIALS["app_secret"], CREDENTIALS["api_key"], api.token]
    text = " ".join(rec.lines) + str(failed.value)
    stored = conn.execute(
        """select string_agg(coalesce(source_file, '') || coalesce(message, ''), ' ') from raw._load_ledger"""
    ).fetchone()[0]
    stored += conn.execute("select coalesce(string_agg(cursor, ' '), '') from raw._api_cursors").fetchone()[0]
    for secret in secrets:
        assert secret not in text and secret not in stored


def test_wrong_credentials_fail_with_the_apis_own_error(apis, conn):
    api = WeChatApi(http(apis.url, Recorder()), CREDENTIALS["app_id"], "wrong")
    with pytest.raises(ApiError, match="GET /cgi-bin/token: no token \\(errcode 40125"):
        pull_wechat_followers(conn, FOLLOWERS, api, LoadReport("wechat_followers", "b1"))


def test_retry_after_reads_seconds_and_http_dates():
    assert parse_retry_after("3", default=1.0) == 3.0
    assert parse_retry_after(None, default=1.5) == 1.5
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", default=9.0) == 0.0  # in the past: go now
    assert parse_retry_after("soon", default=2.0) == 2.0
