"""A local HTTP server that plays the WeChat official-account API and a shop platform's order
API over generated data, with the faults real APIs have: an access token that expires, 500s,
429s with Retry-After, slow answers and malformed pages. The tests start it on loopback;
`scrm serve-api` starts it for trying the connectors by hand.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import polars as pl


@dataclass
class Fault:
    """After `after` good requests whose path starts with `path`, the next `times` get this
    fault instead of an answer: status 500 or 429, `malformed` (a cut-off JSON body), `slow`
    (answer after `delay_s`) or `expire_token` (every token issued so far stops working)."""

    path: str
    kind: str
    times: int = 1
    after: int = 0
    retry_after: str = "1"
    delay_s: float = 0.0


class SourceApis:
    """The state behind the server: followers by openid, orders by order id, tokens, faults."""

    def __init__(self, followers: list[dict], orders: list[dict], app_id: str, app_secret: str, api_key: str):
        self.followers = {f["openid"]: f for f in followers}
        self.orders = {o["order_id"]: o for o in orders}
        self.app_id, self.app_secret, self.api_key = app_id, app_secret, api_key
        self.token_ttl_s = 7200
        self.list_page_size = 10_000
        self.tokens: dict[str, float] = {}
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str, dict]] = []  # (method, path, query or body) as received
        self.lock = threading.Lock()

    @classmethod
    def from_landing(cls, landing: Path, **credentials) -> SourceApis:
        """Serve a generated sample: the WeChat followers as their latest state, the orders as
        their latest version."""
        landing = Path(landing)
        followers = [
            json.loads(line)
            for path in sorted((landing / "wechat_followers").glob("*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.startswith("{") and line.endswith("}")
        ]
        orders = pl.concat(
            [pl.read_csv(p, infer_schema=False) for p in sorted((landing / "online_orders").glob("*.csv"))]
        )
        return cls(followers, orders.to_dicts(), **credentials)

    def inject(self, *faults: Fault) -> None:
        with self.lock:
            self.faults.extend(faults)

    def take_fault(self, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if path.startswith(fault.path) and fault.after > 0:
                    fault.after -= 1
                elif path.startswith(fault.path) and fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    # ---- WeChat ---------------------------------------------------------------------------
    def token(self, query: dict) -> tuple[int, dict]:
        if query.get("appid") != self.app_id or query.get("secret") != self.app_secret:
            return 200, {"errcode": 40125, "errmsg": "invalid appsecret"}
        token = secrets.token_hex(16)
        with self.lock:
            self.tokens[token] = time.monotonic() + self.token_ttl_s
        return 200, {"access_token": token, "expires_in": self.token_ttl_s}

    def token_error(self, query: dict) -> dict | None:
        expires = self.tokens.get(query.get("access_token", ""))
        if expires is None:
            return {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}
        if time.monotonic() >= expires:
            return {"errcode": 42001, "errmsg": "access_token expired"}
        return None

    def follower_list(self, query: dict) -> tuple[int, dict]:
        following = sorted(o for o, f in self.followers.items() if int(f.get("subscribe", 1)) == 1)
        after = query.get("next_openid", "")
        start = next((i + 1 for i, o in enumerate(following) if o == after), 0) if after else 0
        page = following[start : start + self.list_page_size]
        more = start + len(page) < len(following)
        return 200, {
            "total": len(following),
            "count": len(page),
            "data": {"openid": page},
            "next_openid": page[-1] if page and more else "",
        }

    def user_info(self, body: dict) -> tuple[int, dict]:
        wanted = [u.get("openid") for u in body.get("user_list", [])]
        if not wanted or len(wanted) > 100:
            return 200, {"errcode": 45035, "errmsg": "user_list size must be between 1 and 100"}
        users = []
        for openid in wanted:
            f = self.followers.get(openid, {"openid": openid})
            if int(f.get("subscribe", 0)) == 1:
                users.append(f)
            else:  # WeChat tells little about a user who left
                kept = {k: f.get(k) for k in ("openid", "unionid", "unsubscribe_time") if f.get(k)}
                users.append(kept | {"subscribe": 0})
        return 200, {"user_info_list": users}

    # ---- shop orders ------------------------------------------------------------------------
    def order_page(self, query: dict) -> tuple[int, dict]:
        after = (query.get("modified_after", ""), query.get("after_order_id", ""))
        limit = int(query.get("limit", 100))
        newer = sorted(
            (o for o in self.orders.values() if (o["updated_at"], o["order_id"]) > after),
            key=lambda o: (o["updated_at"], o["order_id"]),
        )
        return 200, {"orders": newer[:limit], "has_more": len(newer) > limit}


def _handler(apis: SourceApis) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet: tests read apis.requests instead
            pass

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            self._answer("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._answer("POST")

        def _answer(self, method: str) -> None:
            url = urlparse(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
            body = {}
            if method == "POST":
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            apis.requests.append((method, url.path, body or query))
            fault = apis.take_fault(url.path)
            if fault and fault.kind == "expire_token":
                with apis.lock:
                    apis.tokens = {t: 0.0 for t in apis.tokens}
                fault = None
            if fault and fault.kind == "slow":
                time.sleep(fault.delay_s)
                fault = None
            if fault and fault.kind in ("500", "429"):
                return self._send(int(fault.kind), b'{"error": "injected"}', {"Retry-After": fault.retry_after})
            status, answer = self._route(method, url.path, query, body)
            data = json.dumps(answer, ensure_ascii=False).encode()
            if fault and fault.kind == "malformed":
                data = data[: max(1, len(data) // 2)]
            self._send(status, data)

        def _route(self, method: str, path: str, query: dict, body: dict) -> tuple[int, dict]:
            if path == "/cgi-bin/token":
                return apis.token(query)
            if path.startswith("/cgi-bin/"):
                error = apis.token_error(query)
                if error:
                    return 200, error
                if path == "/cgi-bin/user/get":
                    return apis.follower_list(query)
                if path == "/cgi-bin/user/info/batchget" and method == "POST":
                    return apis.user_info(body)
            if path == "/api/orders":
                if self.headers.get("X-Api-Key") != apis.api_key:
                    return 401, {"error": "bad api key"}
                return apis.order_page(query)
            return 404, {"error": f"no such endpoint {path}"}

        def _send(self, status: int, data: bytes, headers: dict | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

    return Handler


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        """A client that gave up on a slow answer is expected here, not an error to print."""


def start(apis: SourceApis, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """Serve in a background thread; `server.server_address` has the port; stop with
    `server.shutdown()`."""
    server = _Server((host, port), _handler(apis))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
