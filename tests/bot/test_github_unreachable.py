"""An App whose GitHub cannot be reached: one log line per try naming the host and the cause (no traceback), and the
queue page shows the delivery's reason and attempt count. A real `evolve serve` whose GitHub URL is a closed port."""

from __future__ import annotations

import json
import re
import time
import uuid

import httpx

from bot.github.unreachable import unreachable_cause
from tests.bot.conftest import sign
from tests.bot.live_server import SECRET, base_env, credential_env, free_port, live_server, server_log

OPERATOR_TOKEN = "unreachable-github-operator-token-0123456789"
COMMENT = {
    "action": "created",
    "comment": {"id": 11, "body": "/evolve help", "user": {"login": "alice", "type": "User"}, "updated_at": "x"},
    "issue": {"number": 1},
    "repository": {"id": 5, "name": "widgets", "full_name": "acme/widgets", "owner": {"login": "acme"}},
    "installation": {"id": 7},
    "sender": {"login": "alice", "type": "User"},
}


def test_unreachable_github_logs_one_line_per_try_and_the_queue_page_says_why(tmp_path):
    closed = free_port()
    env = {
        **base_env(tmp_path),
        **credential_env(),
        "EVOLVE_GITHUB_URL": f"http://127.0.0.1:{closed}",
        "EVOLVE_DELIVERY_ATTEMPTS": "2",
        "EVOLVE_OPERATOR_TOKEN": OPERATOR_TOKEN,
        "EVOLVE_DATA_DIR": str(tmp_path / "data"),
    }
    with live_server(tmp_path, env) as server:
        body = json.dumps(COMMENT).encode()
        headers = {
            "X-GitHub-Event": "issue_comment",
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": sign(body, SECRET),
            "Content-Type": "application/json",
        }
        assert httpx.post(f"{server.base}/webhook", content=body, headers=headers).status_code == 202
        deadline = time.monotonic() + 60
        while "attempt 2 of 2" not in server_log(tmp_path, server) and time.monotonic() < deadline:
            time.sleep(0.5)
        log = server_log(tmp_path, server)
        with httpx.Client(base_url=server.base) as client:
            client.post(
                "/status/login/token",
                content=f"token={OPERATOR_TOKEN}&next=/status/queue",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            queue = client.get("/status/queue").text
    tries = [line for line in log.splitlines() if "(issue_comment), attempt" in line]
    assert len(tries) == 2, log
    host = f"127.0.0.1:{closed} unreachable: ConnectError"
    assert host in tries[0] and "attempt 1 of 2" in tries[0] and tries[0].endswith("retrying in 5 s")
    assert host in tries[1] and "attempt 2 of 2" in tries[1] and tries[1].endswith("giving up")
    assert "Traceback" not in log
    table = queue.split('id="delivery-failures"', 1)[1].split("</table>", 1)[0]
    assert "issue_comment · created" in table and ">failed<" in table
    assert re.search(r'class="num">2 of 2<', table) and host in table


def test_only_failures_to_reach_a_server_are_told_apart():
    request = httpx.Request("GET", "https://api.github.com/app")
    refused = httpx.ConnectError("[Errno 111] Connection refused", request=request)
    assert unreachable_cause(refused) == "api.github.com unreachable: ConnectError: [Errno 111] Connection refused"
    try:
        try:
            raise refused
        except httpx.ConnectError as error:
            raise RuntimeError("token request failed") from error
    except RuntimeError as wrapped:
        assert unreachable_cause(wrapped) == unreachable_cause(refused)
    assert unreachable_cause(ValueError("a bug")) is None
    answer = httpx.Response(500, request=request)
    assert unreachable_cause(httpx.HTTPStatusError("500", request=request, response=answer)) is None
