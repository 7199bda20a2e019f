"""Pull sources from HTTP APIs: WeChat official-account followers and shop-platform orders.

Pages land like files (`ingestion.load.load_page`): through the source's contract into raw or
the rejects, each with a ledger entry, and the cursor saved in the same transaction. So a pull
that fails part-way keeps what it loaded, and the next pull starts where it stopped: nothing
lost, nothing loaded twice.

HTTP behaviour: a timeout on every request; connection errors, timeouts, 5xx answers and
malformed pages are retried with exponential backoff and jitter; a 429 waits for its
`Retry-After`. A request that still fails raises `ApiError`, which names the endpoint and the
problem, never a secret (tokens, app secrets and API keys are kept out of every message).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import duckdb
import requests

from common.errors import UserError
from ingestion.contracts import Contract
from ingestion.load import LoadReport, ensure_raw_tables, load_page, read_cursor

WECHAT_BATCH = 100  # user/info/batchget takes at most 100 openids
WECHAT_TOKEN_ERRORS = {40001, 40014, 42001}  # invalid credential, invalid token, token expired
SECRET_PARAMS = {"secret", "access_token"}  # query parameters whose values never reach a message


class ApiError(UserError):
    """A request failed for good; the message names the endpoint and the problem."""


@dataclass(frozen=True)
class HttpPolicy:
    timeout_s: float = 10.0
    attempts: int = 5  # tries per request, the first included
    backoff_s: float = 0.5  # first wait; doubles each retry
    max_wait_s: float = 60.0  # longest wait, Retry-After included


@dataclass
class HttpClient:
    """GET/POST JSON with timeouts, retries and backoff. `sleep` is injectable for tests."""

    base_url: str
    policy: HttpPolicy = field(default_factory=HttpPolicy)
    headers: dict = field(default_factory=dict)
    log: Callable[[str], None] = lambda message: None
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update(self.headers)

    def call(self, method: str, path: str, params: dict | None = None, body: dict | None = None) -> dict:
        """The JSON object an endpoint answers. Values of SECRET_PARAMS and of the headers never
        appear in a message, even when a server echoes them back."""
        secrets = [str(v) for k, v in (params or {}).items() if k in SECRET_PARAMS] + list(self.headers.values())

        def scrub(text: str) -> str:
            for secret in secrets:
                text = text.replace(secret, "***")
            return text

        problem = ""
        for attempt in range(1, self.policy.attempts + 1):
            wait = self.policy.backoff_s * 2 ** (attempt - 1) * (0.5 + random.random() / 2)
            try:
                response = self.session.request(
                    method, self.base_url + path, params=params, json=body, timeout=self.policy.timeout_s
                )
            except requests.Timeout:
                problem = f"no answer within {self.policy.timeout_s:g}s"
            except requests.ConnectionError as exc:
                problem = f"connection failed ({type(exc).__name__})"  # the exception text holds the URL
            else:
                status = response.status_code
                if status == 429:
                    wait = retry_after(response.headers.get("Retry-After"), default=wait)
                    problem = f"HTTP 429 too many requests (Retry-After {response.headers.get('Retry-After')})"
                elif status >= 500:
                    problem = f"HTTP {status}"
                elif status >= 400:
                    raise ApiError(scrub(f"{method} {path}: HTTP {status}: {response.text[:200]}"))
                else:
                    try:
                        answer = response.json()
                    except ValueError:
                        answer = None
                    if isinstance(answer, dict):
                        return answer
                    problem = scrub(f"malformed page (not a JSON object: {response.text[:80]!r})")
            if attempt < self.policy.attempts:
                wait = min(wait, self.policy.max_wait_s)
                self.log(f"{method} {path}: {problem}; retry {attempt}/{self.policy.attempts - 1} in {wait:.1f}s")
                self.sleep(wait)
        raise ApiError(f"{method} {path}: failed after {self.policy.attempts} attempts: {problem}")


def retry_after(value: str | None, default: float) -> float:
    """Seconds to wait from a Retry-After header: a number of seconds or an HTTP date."""
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return default


# ---- WeChat official account ----------------------------------------------------------------
@dataclass
class WeChatApi:
    """Access token from app id + secret, refreshed before it expires and when the API says it
    expired; the follower list paged by `next_openid`; user details in batches of 100."""

    http: HttpClient
    app_id: str
    app_secret: str
    refresh_margin_s: float = 300.0  # refresh this long before the token expires
    clock: Callable[[], float] = time.monotonic
    token: str | None = None
    expires_at: float = 0.0
    tokens_fetched: int = 0

    def access_token(self, force: bool = False) -> str:
        if force or self.token is None or self.clock() >= self.expires_at:
            answer = self.http.call(
                "GET",
                "/cgi-bin/token",
                {"grant_type": "client_credential", "appid": self.app_id, "secret": self.app_secret},
            )
            if "access_token" not in answer:
                code, message = answer.get("errcode"), answer.get("errmsg")
                raise ApiError(f"GET /cgi-bin/token: no token (errcode {code}: {message})")
            self.token = answer["access_token"]
            expires_in = float(answer.get("expires_in", 7200))
            self.expires_at = self.clock() + max(0.0, expires_in - min(self.refresh_margin_s, expires_in / 10))
            self.tokens_fetched += 1
        return self.token

    def call(self, method: str, path: str, params: dict | None = None, body: dict | None = None) -> dict:
        """An API call with the token; an expired-token answer refreshes it and tries again once."""
        for attempt in (1, 2):
            token = self.access_token(force=attempt == 2)
            answer = self.http.call(method, path, {**(params or {}), "access_token": token}, body)
            code = answer.get("errcode", 0)
            if code in WECHAT_TOKEN_ERRORS and attempt == 1:
                self.http.log(f"{method} {path}: access token refused (errcode {code}); fetching a new one")
                continue
            if code:
                raise ApiError(f"{method} {path}: errcode {code}: {answer.get('errmsg')}")
            return answer
        raise AssertionError("unreachable")

    def follower_openids(self) -> Iterator[list[str]]:
        """Pages of the openids following now."""
        next_openid = ""
        while True:
            page = self.call("GET", "/cgi-bin/user/get", {"next_openid": next_openid})
            openids = (page.get("data") or {}).get("openid") or []
            if not isinstance(openids, list):
                raise ApiError(f"GET /cgi-bin/user/get: malformed page after next_openid={next_openid!r}")
            if openids:
                yield openids
            next_openid = page.get("next_openid") or ""
            if not openids or not next_openid:
                return

    def user_info(self, openids: list[str]) -> list[dict]:
        if len(openids) > WECHAT_BATCH:
            raise ValueError(f"at most {WECHAT_BATCH} openids a batch, got {len(openids)}")
        body = {"user_list": [{"openid": o, "lang": "zh_CN"} for o in openids]}
        answer = self.call("POST", "/cgi-bin/user/info/batchget", body=body)
        users = answer.get("user_info_list")
        if not isinstance(users, list):
            raise ApiError(f"POST /cgi-bin/user/info/batchget: malformed page (no user_info_list) for {openids[0]}…")
        return users


def pull_wechat_followers(
    conn: duckdb.DuckDBPyConnection,
    contract: Contract,
    api: WeChatApi,
    report: LoadReport,
    run_id: str | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> None:
    """Details of the followers whose state changed since the warehouse last heard of them:
    new followers, re-subscribes, and followers gone from the list (unsubscribed). Each batch of
    100 is one page in the ledger."""
    ensure_raw_tables(conn, contract)
    known = dict(
        conn.execute(f"""
            select openid, subscribe from (
                select openid, subscribe, row_number() over (
                    partition by openid
                    order by coalesce(unsubscribe_time, subscribe_time) desc, _loaded_at desc, _line_number desc
                ) as version
                from raw."{contract.source}"
            ) where version = 1""").fetchall()
    )
    following: set[str] = set()
    for page in api.follower_openids():
        following.update(page)
    progress(f"{contract.source}: {len(following):,} follow the account now, {len(known):,} known")
    joined = {o for o in following if known.get(o) != 1}
    left = {o for o, subscribed in known.items() if subscribed == 1 and o not in following}
    changed = sorted(joined | left)
    for start in range(0, len(changed), WECHAT_BATCH):
        batch = changed[start : start + WECHAT_BATCH]
        users = api.user_info(batch)
        for user in users:
            if isinstance(user, dict) and str(user.get("subscribe")) == "0" and not user.get("unsubscribe_time"):
                # WeChat does not say when a user left; they had left by the time of this pull
                user["unsubscribe_time"] = int(time.time())
        load_page(conn, contract, report, f"api:/cgi-bin/user/info/batchget {batch[0]}..{batch[-1]}", users, run_id)
        if (start // WECHAT_BATCH) % 100 == 99 or start + WECHAT_BATCH >= len(changed):
            progress(f"{contract.source}: details of {min(start + WECHAT_BATCH, len(changed)):,}/{len(changed):,}")


# ---- shop platform orders -------------------------------------------------------------------
ORDERS_START = {"modified_after": "1970-01-01 00:00:00", "after_order_id": ""}


def pull_shop_orders(
    conn: duckdb.DuckDBPyConnection,
    contract: Contract,
    http: HttpClient,
    report: LoadReport,
    run_id: str | None = None,
    page_size: int = 100,
    progress: Callable[[str], None] = lambda message: None,
) -> None:
    """Orders created or changed since the cursor (refunds of old orders included), page by
    page. The cursor is the (modified time, order id) of the last order loaded; each page is
    committed together with the cursor past it."""
    ensure_raw_tables(conn, contract)
    name = f"{contract.source}:/api/orders"
    cursor = json.loads(read_cursor(conn, name) or json.dumps(ORDERS_START))
    pages = 0
    while True:
        page = http.call("GET", "/api/orders", {**cursor, "limit": page_size})
        orders = page.get("orders")
        if not isinstance(orders, list) or not isinstance(page.get("has_more"), bool):
            raise ApiError(f"GET /api/orders: malformed page after {cursor} (no orders list or has_more flag)")
        if not orders:
            return
        last = orders[-1]
        if not isinstance(last, dict) or not last.get("updated_at") or not last.get("order_id"):
            raise ApiError(f"GET /api/orders: the last order of the page after {cursor} has no updated_at/order_id")
        after = {"modified_after": str(last["updated_at"]), "after_order_id": str(last["order_id"])}
        label = f"api:/api/orders after {cursor['modified_after']} {cursor['after_order_id']}".rstrip()
        load_page(conn, contract, report, label, orders, run_id, cursor=(name, json.dumps(after)))
        cursor, pages = after, pages + 1
        if pages % 100 == 0:
            progress(f"{contract.source}: {pages:,} pages pulled, up to {after['modified_after']}")
        if not page["has_more"]:
            progress(f"{contract.source}: {pages:,} pages pulled, up to {after['modified_after']}")
            return


# ---- configuration --------------------------------------------------------------------------
API_SOURCES = {  # the sources that have an API, and the setting that turns its pull on
    "wechat_followers": "the WeChat official-account API when `SCRM_WECHAT_API_URL` is set",
    "online_orders": "the shop platform's order API when `SCRM_SHOP_API_URL` is set",
}


def pull_configured(
    conn: duckdb.DuckDBPyConnection,
    contract: Contract,
    report: LoadReport,
    wechat: dict | None = None,
    shop: dict | None = None,
    run_id: str | None = None,
    log: Callable[[str], None] = lambda message: None,
) -> bool:
    """Pull the API that feeds this source, if one is configured; True if it pulled.

    wechat: url, app_id, app_secret (SCRM_WECHAT_API_URL, SCRM_WECHAT_APP_ID, SCRM_WECHAT_APP_SECRET).
    shop: url, api_key (SCRM_SHOP_API_URL, SCRM_SHOP_API_KEY, sent as the X-Api-Key header).
    """
    wechat, shop = wechat or {}, shop or {}
    if contract.source == "wechat_followers" and wechat.get("url"):
        http = HttpClient(wechat["url"], log=log)
        api = WeChatApi(
            http,
            _required(wechat, "app_id", "SCRM_WECHAT_APP_ID"),
            _required(wechat, "app_secret", "SCRM_WECHAT_APP_SECRET"),
        )
        pull_wechat_followers(conn, contract, api, report, run_id, log)
        return True
    if contract.source == "online_orders" and shop.get("url"):
        key = _required(shop, "api_key", "SCRM_SHOP_API_KEY")
        pull_shop_orders(
            conn, contract, HttpClient(shop["url"], headers={"X-Api-Key": key}, log=log), report, run_id, progress=log
        )
        return True
    return False


def _required(settings: dict, key: str, variable: str) -> str:
    if not settings.get(key):
        raise ApiError(f"{variable} is not set: the API is configured (its URL is set) but has no credentials")
    return settings[key]
