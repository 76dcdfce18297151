"""The admin API of one real `isms-bridge serve` process (SQLite state), to smpplib ESMEs.

Every operation through the API (and the CLI for a few), what the ESMEs see of it, the
auth cases, and the audit log that remembers them.
"""

from __future__ import annotations

import contextlib
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import smpplib.client
import smpplib.exceptions
import smpplib.smpp
from admin_client import OPERATE_TOKEN, READ_TOKEN, AdminApi, admin_cli, admin_section
from real_parts import free_port
from serve_process import ServeProcess
from smpplib_esme import read_receipts, submit

from bridge.app.admin.openapi import OPERATIONS
from bridge.pdu import CommandStatus

from .messages_rig import SandboxThread

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(180)]

TO = "60123456789"


class Served:
    def __init__(self, tmp_path: Path, sandbox: SandboxThread) -> None:
        self.smpp_port, self.metrics_port, self.admin_port = free_port(), free_port(), free_port()
        self.config = tmp_path / "bridge.toml"
        self.tmp_path = tmp_path
        self.config.write_text(
            "\n".join(
                [
                    "[smpp]",
                    'host = "127.0.0.1"',
                    f"port = {self.smpp_port}",
                    "bind_failure_delay_s = 0.1",
                    "auth_slowdown_s = 0",
                    "shutdown_timeout_s = 3",
                    "[metrics]",
                    'host = "127.0.0.1"',
                    f"port = {self.metrics_port}",
                    "[isms]",
                    'api = "http"',
                    f'endpoints = ["{sandbox.url}", "http://127.0.0.1:9/b.php"]',
                    "[state]",
                    'path = "state.sqlite3"',
                    admin_section(tmp_path, self.admin_port),
                    "[[accounts]]",
                    'system_id = "esme1"',
                    'password = "secret1"',
                    'isms_username = "isms"',
                    'isms_password = "isms123"',
                    "[[accounts]]",
                    'system_id = "esme2"',
                    'password = "secret2"',
                    'isms_username = "isms"',
                    'isms_password = "isms123"',
                    "throughput_per_s = 0.01",  # slow: a token taken stays gone for the test
                    "throughput_burst = 10",
                    "",
                ]
            ),
            encoding="utf-8",
        )
        self.runs = 0
        self.process = self.start()
        self.api = AdminApi(self.admin_port)

    def start(self) -> ServeProcess:
        self.runs += 1
        process = ServeProcess(
            self.config, self.tmp_path / f"serve{self.runs}.log", port=self.smpp_port
        )
        process.wait_for(r"event=admin_listening")
        self.process = process
        return process

    def readyz(self) -> int:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.metrics_port}/readyz", timeout=5
            ) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return error.code

    def metrics(self) -> str:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5
        ) as response:
            return str(response.read().decode())

    def bind(self, kind: str = "transceiver", system_id: str = "esme1") -> smpplib.client.Client:
        client = smpplib.client.Client(
            "127.0.0.1", self.smpp_port, timeout=10, allow_unknown_opt_params=True
        )
        client.connect()
        password = {"esme1": "secret1", "esme2": "secret2"}[system_id]
        getattr(client, f"bind_{kind}")(system_id=system_id, password=password)
        return client

    def refused_bind(self, system_id: str = "esme1") -> int:
        try:
            client = self.bind(system_id=system_id)
        except smpplib.exceptions.PDUError as error:
            return int(error.args[1])
        close(client)
        return 0


def close(*clients: smpplib.client.Client) -> None:
    for client in clients:
        with contextlib.suppress(Exception):
            client.unbind()
        client.disconnect()


def unbound_by_bridge(client: smpplib.client.Client) -> bool:
    """Reads until the bridge's unbind; answers it as an ESME should."""
    while True:
        pdu = client.read_pdu()
        if pdu.command == "unbind":
            client.send_pdu(smpplib.smpp.make_pdu("unbind_resp", client=client,
                                                  sequence=pdu.sequence))  # fmt: skip
            return True


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    sandbox = SandboxThread()
    running = Served(tmp_path, sandbox)
    try:
        yield running
    finally:
        running.process.stop()
        sandbox.stop()


def test_calls_without_a_token_with_a_wrong_one_or_with_a_read_one_to_act_are_refused(
    served: Served,
) -> None:
    api = served.api
    assert api.call("GET", "/v1/status", headers={})[0] == 401
    assert api.call("GET", "/v1/status", token="not-the-token-0123456789")[0] == 401
    assert api.call("GET", "/v1/status", token=READ_TOKEN)[0] == 200
    status, answer = api.call("POST", "/v1/accounts/esme1/suspend", token=READ_TOKEN)
    assert status == 403 and "operate" in answer["error"]
    # An unknown path answers 401 too without a token: the routes are not listed to strangers.
    assert api.call("GET", "/v1/nothing", headers={})[0] == 401
    assert api.call("GET", "/v1/nothing")[0] == 404


def test_a_token_in_the_query_string_is_refused_with_a_clear_error_and_never_logged(
    served: Served,
) -> None:
    status, answer = served.api.call("GET", f"/v1/status?token={OPERATE_TOKEN}")
    assert status == 400
    assert "query string" in answer["error"] and "revoke" in answer["error"]
    assert served.api.call("GET", f"/v1/binds?access_token={OPERATE_TOKEN}")[0] == 400
    served.process.wait_for(r"event=admin_refused reason=query_string")
    metrics = served.metrics()
    assert 'isms_bridge_admin_auth_failures_total{reason="query_string"} 2.0' in metrics
    assert OPERATE_TOKEN not in served.process.log() and READ_TOKEN not in served.process.log()


def test_a_wrong_token_is_refused_as_fast_whether_it_is_close_to_a_right_one_or_not(
    served: Served,
) -> None:
    api = served.api

    def median_s(token: str) -> float:
        samples = []
        for _ in range(60):
            start = time.perf_counter()
            assert api.call("GET", "/v1/mirrors", token=token)[0] == 401
            samples.append(time.perf_counter() - start)
        return statistics.median(samples)

    close_guess = median_s(OPERATE_TOKEN[:-1] + "x")
    far_guess = median_s("z" * len(OPERATE_TOKEN))
    short_guess = median_s("z")
    for guess in (far_guess, short_guess):
        assert 0.5 < guess / close_guess < 2.0, (close_guess, far_guess, short_guess)


def test_the_served_openapi_document_lists_exactly_the_routes(served: Served) -> None:
    document = served.api.ok("GET", "/v1/openapi.json")
    served_routes = {
        (method.upper(), path) for path, methods in document["paths"].items() for method in methods
    }
    assert served_routes == {(operation.method, operation.path) for operation in OPERATIONS}
    # Each documented route answers something other than 404/405 to its method.
    for operation in OPERATIONS:
        path = (
            operation.path.replace("{system_id}", "esme1")
            .replace("{instance}", "nowhere")
            .replace("{session_id}", "s0")
            .replace("{message_id}", "0")
            .replace("{index}", "99")
            .replace("{number}", TO)
        )
        status, _ = served.api.call(operation.method, path, token=READ_TOKEN)
        assert status in (200, 403), (operation, status)


def test_status_binds_and_accounts_show_the_bound_esme_and_kick_unbinds_it(
    served: Served,
) -> None:
    client = served.bind()
    try:
        status = served.api.ok("GET", "/v1/status")
        assert status["totals"]["bound_here"] == 1 and status["state"]["backend"] == "sqlite"
        assert [m["in_service"] for m in status["mirrors"]] == [True, True]
        [bind] = served.api.ok("GET", "/v1/binds?account=esme1")["binds"]
        assert bind["bind_type"] == "transceiver" and bind["peer"].startswith("127.0.0.1:")
        assert bind["instance"] == status["instance"]
        accounts = {a["system_id"]: a for a in served.api.ok("GET", "/v1/accounts")["accounts"]}
        assert accounts["esme1"]["binds"] == 1 and accounts["esme2"]["binds"] == 0
        assert accounts["esme1"]["suspended"] is None
        assert accounts["esme1"]["throughput"] is None
        assert accounts["esme2"]["throughput"] == {
            "per_s": 0.01, "burst": 10.0, "tokens_left": 10.0, "bucket": "instance",
        }  # fmt: skip
        run = admin_cli(served.admin_port, "kick", f"{bind['instance']}/{bind['session_id']}",
                        token_file=served.tmp_path / "operate.token")  # fmt: skip
        assert run.returncode == 0, run.stderr
        assert "unbound: 1" in run.stdout
        assert unbound_by_bridge(client)
    finally:
        client.disconnect()


def test_a_suspension_unbinds_refuses_binds_and_survives_a_restart_until_resumed(
    served: Served,
) -> None:
    client = served.bind()
    try:
        answer = served.api.ok(
            "POST", "/v1/accounts/esme1/suspend", {"mode": "refuse_binds", "reason": "abuse"}
        )
        assert answer["unbound_here"] == 1
        assert unbound_by_bridge(client)
    finally:
        client.disconnect()
    assert served.refused_bind() == CommandStatus.ESME_RBINDFAIL
    assert served.refused_bind("esme2") == 0  # another account binds as before
    served.process.stop()
    served.start()
    assert served.refused_bind() == CommandStatus.ESME_RBINDFAIL
    account = served.api.ok("GET", "/v1/accounts/esme1")
    assert account["suspended"]["reason"] == "abuse" and account["suspended"]["by"] == "ops"
    assert 'isms_bridge_accounts_suspended{mode="refuse_binds"} 1.0' in served.metrics()
    served.api.ok("POST", "/v1/accounts/esme1/resume")
    assert served.refused_bind() == 0


def test_the_softer_suspension_answers_submits_rthrottled_and_keeps_the_bind(
    served: Served,
) -> None:
    client = served.bind()
    try:
        assert submit(client, destination_addr=TO, short_message=b"before").status == 0
        served.api.ok("POST", "/v1/accounts/esme1/suspend", {"mode": "throttle_submits"})
        answer = submit(client, destination_addr=TO, short_message=b"during")
        assert answer.status == CommandStatus.ESME_RTHROTTLED
        served.api.ok("POST", "/v1/accounts/esme1/resume")
        assert submit(client, destination_addr=TO, short_message=b"after").status == 0
    finally:
        close(client)


def test_a_number_opted_out_through_the_api_is_refused_until_removed_and_kept_across_a_restart(
    served: Served,
) -> None:
    written = quote("+60 12-345 6789", safe="")  # as an ESME would write it
    added = served.api.ok("PUT", f"/v1/opt-outs/{written}", {"reason": "STOP by SMS"})
    assert added["number"] == TO and added["account"] == "*" and added["added"] is True
    client = served.bind()
    try:
        refused = submit(client, destination_addr=TO, short_message=b"promo")
        assert refused.status == CommandStatus.ESME_RSUBMITFAIL
        assert submit(client, destination_addr="60198765432", short_message=b"ok").status == 0
    finally:
        close(client)
    served.process.stop()
    served.start()
    listed = served.api.ok("GET", "/v1/opt-outs")
    assert listed["count"] == 1
    assert listed["opt_outs"][0]["number"] == TO and listed["opt_outs"][0]["by"] == "ops"
    run = admin_cli(served.admin_port, "opt-out", "list", token_file=served.tmp_path / "read.token")
    assert run.returncode == 0 and TO in run.stdout and "STOP by SMS" in run.stdout
    client = served.bind()
    try:
        again = submit(client, destination_addr=TO, short_message=b"promo")
        assert again.status == CommandStatus.ESME_RSUBMITFAIL
        removed = served.api.ok("DELETE", f"/v1/opt-outs/{TO}")
        assert removed["removed"] is True
        assert submit(client, destination_addr=TO, short_message=b"hello").status == 0
    finally:
        close(client)
    actions = [e["action"] for e in served.api.ok("GET", "/v1/audit")["entries"]]
    assert actions[:2] == ["opt_in", "opt_out"]


def test_an_opt_out_for_one_account_refuses_only_its_submits_and_a_bad_number_is_a_400(
    served: Served,
) -> None:
    served.api.ok("PUT", f"/v1/opt-outs/{TO}", {"account": "esme2"})
    client = served.bind()
    try:
        assert submit(client, destination_addr=TO, short_message=b"esme1 may").status == 0
    finally:
        close(client)
    status, answer = served.api.call("PUT", "/v1/opt-outs/not-a-number", {})
    assert status == 400 and "not a phone number" in str(answer["error"])
    status, answer = served.api.call("PUT", f"/v1/opt-outs/{TO}", {"account": "nobody"})
    assert status == 404


def test_a_drain_fails_readyz_refuses_binds_unbinds_gracefully_and_reports_idle(
    served: Served,
) -> None:
    client = served.bind()
    try:
        assert served.readyz() == 200
        answer = served.api.ok("POST", "/v1/drain", {"settle_s": 0.3, "wait_s": 10})
        # The ESME answers the unbind only now; the report waited for it to go.
        assert answer["draining"] is True
        assert unbound_by_bridge(client)
    finally:
        client.disconnect()
    report = served.api.ok("GET", "/v1/drain")
    assert report == {**report, "drained": True, "bound": 0, "requests_in_flight": 0}
    assert served.readyz() == 503
    assert served.refused_bind() == CommandStatus.ESME_RBINDFAIL
    served.api.ok("DELETE", "/v1/drain")
    assert served.readyz() == 200
    assert served.refused_bind() == 0


def test_mirrors_log_level_messages_receipts_and_the_audit_of_it_all(served: Served) -> None:
    api = served.api
    assert api.ok("POST", "/v1/mirrors/1/out")["changed"] is True
    status, answer = api.call("POST", "/v1/mirrors/0/out")
    assert status == 409 and "last mirror" in answer["error"]
    assert [m["in_service"] for m in api.ok("GET", "/v1/mirrors")["mirrors"]] == [True, False]
    assert api.ok("PUT", "/v1/log-level", {"level": "debug"})["not_answered"] == []
    served.process.wait_for(r"event=log_level_set logger=root level=debug")
    # A receipt held for a transmitter-only ESME (no receiver bound), then dropped.
    sender = served.bind("transmitter")
    try:
        held = submit(sender, destination_addr=TO, short_message=b"held", registered_delivery=1)
        kept = submit(sender, destination_addr=TO, short_message=b"kept", registered_delivery=1,
                      source_addr_ton=5, user_message_reference=77)  # fmt: skip
    finally:
        close(sender)
    [found] = api.ok("GET", f"/v1/messages?id={held.message_id}")["messages"]
    assert found["destinations"] == [TO]
    account = api.ok("GET", "/v1/accounts/esme1")
    assert account["receipts_held"] == 2
    assert time.time() - 60 < account["oldest_receipt_at"] <= time.time()
    assert 0 <= account["oldest_receipt_age_s"] < 60
    assert api.ok("DELETE", "/v1/accounts/esme1/receipts")["dropped"] == 2
    account = api.ok("GET", "/v1/accounts/esme1")
    assert account["oldest_receipt_at"] is None and account["oldest_receipt_age_s"] is None
    # Sent again on an operator's word: a receiver now gets the receipt of `kept`.
    receiver = served.bind("receiver")
    try:
        assert api.ok("POST", f"/v1/messages/esme1/{kept.message_id}/receipt")["queued"] == 1
        [receipt] = read_receipts(receiver, 1)
        assert f"id:{kept.message_id} ".encode() in receipt.short_message
        # The original's addresses with their TON/NPI (swapped), and its reference.
        assert (receipt.source_addr_ton, receipt.source_addr_npi) == (1, 1)
        assert (receipt.dest_addr_ton, receipt.dest_addr_npi) == (5, 0)
        assert receipt.user_message_reference == 77
    finally:
        close(receiver)
    assert api.call("POST", "/v1/messages/esme1/NOSUCHID/receipt")[0] == 404
    entries = api.ok("GET", "/v1/audit")["entries"]
    assert [e["action"] for e in entries] == [
        "resend_receipt",
        "drop_receipts",
        "log_level",
        "mirror_out",
    ]  # fmt: skip (newest first; the refused calls did nothing and are not audited)
    assert {e["caller"] for e in entries} == {"ops"}
    run = admin_cli(served.admin_port, "audit", token_file=served.tmp_path / "read.token")
    assert run.returncode == 0 and "resend_receipt" in run.stdout


def test_an_accounts_bucket_shows_the_tokens_its_messages_took(served: Served) -> None:
    client = served.bind("transmitter", system_id="esme2")
    try:
        assert submit(client, destination_addr=TO, short_message=b"one token").status == 0
    finally:
        close(client)
    throughput = served.api.ok("GET", "/v1/accounts/esme2")["throughput"]
    assert 9.0 <= throughput["tokens_left"] < 9.5 and throughput["bucket"] == "instance"
    run = admin_cli(served.admin_port, "accounts", token_file=served.tmp_path / "read.token")
    assert run.returncode == 0 and "/10.0@0.01/s" in run.stdout


def test_the_cli_prints_tables_or_json_and_exits_1_for_a_refused_call(served: Served) -> None:
    read_token = served.tmp_path / "read.token"
    run = admin_cli(served.admin_port, "accounts", token_file=read_token)
    assert run.returncode == 0 and run.stdout.splitlines()[0].split()[0] == "system_id"
    run = admin_cli(served.admin_port, "--json", "mirrors", token_file=read_token)
    assert run.returncode == 0 and '"in_service": true' in run.stdout
    run = admin_cli(served.admin_port, "suspend", "esme1", token_file=read_token)
    assert run.returncode == 1 and "403" in run.stderr
    run = admin_cli(free_port(), "status", token_file=read_token)
    assert run.returncode == 2 and "cannot reach" in run.stderr


def test_with_admin_tls_the_api_speaks_https_only_and_the_cli_verifies_it(
    tmp_path: Path, certificate: tuple[Path, Path]
) -> None:
    cert_file, key_file = certificate
    smpp_port, admin_port = free_port(), free_port()
    config = tmp_path / "tls.toml"
    config.write_text(
        "\n".join(
            [
                "[smpp]", 'host = "127.0.0.1"', f"port = {smpp_port}",
                "[metrics]", 'host = "127.0.0.1"', f"port = {free_port()}",
                "[isms]", 'api = "http"', 'endpoints = ["http://127.0.0.1:9/a.php"]',
                "[state]", 'backend = "memory"',
                admin_section(tmp_path, admin_port),
                "[admin.tls]", f'cert_file = "{cert_file}"', f'key_file = "{key_file}"',
                "[[accounts]]", 'system_id = "esme1"', 'password = "secret1"',
                'isms_username = "isms"', 'isms_password = "isms123"', "",
            ]
        ),
        encoding="utf-8",
    )  # fmt: skip
    process = ServeProcess(config, tmp_path / "tls.log", port=smpp_port)
    try:
        process.wait_for(r"event=admin_listening host=127\.0\.0\.1 port=\d+ tls=true")
        with pytest.raises((urllib.error.URLError, ConnectionError)):  # plain HTTP: no answer
            AdminApi(admin_port).call("GET", "/v1/status", timeout=3)
        run = subprocess.run(
            [sys.executable, "-m", "bridge", "admin", "--url", f"https://127.0.0.1:{admin_port}",
             "--token-file", str(tmp_path / "read.token"), "--cafile", str(cert_file), "status"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        assert "version: " in run.stdout
        run = admin_cli(admin_port, "status", token_file=tmp_path / "read.token")
        assert run.returncode == 2  # http:// to a TLS port: no answer
    finally:
        process.stop()
