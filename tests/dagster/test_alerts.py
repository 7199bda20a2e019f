"""A failed run raises an alert: a line in the alert file, and a POST to the webhook when one is
set. The webhook is a real HTTP server on loopback."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import dagster as dg
import pytest

from orchestration.resources import Alerts
from orchestration.sensors import failure_alert_sensor, write_alert


@pytest.fixture
def webhook():
    received = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):  # noqa: N802
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()


@dg.op
def breaks():
    raise ValueError("raw/online_orders: GET /api/orders: failed after 5 attempts: HTTP 500")


@dg.job
def broken_job():
    breaks()


def test_a_failed_run_writes_an_alert_and_calls_the_webhook(tmp_path, webhook):
    url, received = webhook
    instance = dg.DagsterInstance.ephemeral()
    result = broken_job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    context = dg.build_run_status_sensor_context(
        sensor_name="failure_alert_sensor",
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        dagster_event=result.get_run_failure_event(),
        resources={"alerts": Alerts(path=str(tmp_path / "alerts"), webhook=url)},
    ).for_run_failure()
    failure_alert_sensor(context)

    (alert,) = [json.loads(line) for line in (tmp_path / "alerts" / "alerts.jsonl").read_text().splitlines()]
    assert alert["run_id"] == result.run_id and alert["job"] == "broken_job"
    assert alert["failed_steps"] == ["breaks"]
    assert received == [alert]


def test_a_dead_webhook_still_leaves_the_alert_in_the_file(tmp_path):
    said = []
    path = write_alert({"run_id": "r1"}, tmp_path, "http://127.0.0.1:9/nowhere", said.append)
    assert json.loads(path.read_text()) == {"run_id": "r1"}
    assert said and "alert webhook failed" in said[0]
