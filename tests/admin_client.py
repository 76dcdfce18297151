"""The admin API as the tests call it: plain HTTP with a bearer token, JSON both ways."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from serve_process import REPO

OPERATE_TOKEN = "operate-token-0123456789"
READ_TOKEN = "read-token-0123456789abcd"


def admin_section(directory: Path, port: int) -> str:
    """An [admin] section on `port` with an operate token ("ops") and a read one
    ("viewer"), their files written to `directory`."""
    (directory / "operate.token").write_text(OPERATE_TOKEN + "\n", encoding="utf-8")
    (directory / "read.token").write_text(READ_TOKEN + "\n", encoding="utf-8")
    return "\n".join(
        [
            "[admin]",
            'host = "127.0.0.1"',
            f"port = {port}",
            "[[admin.tokens]]",
            'name = "ops"',
            'scope = "operate"',
            f'token_file = "{directory / "operate.token"}"',
            "[[admin.tokens]]",
            'name = "viewer"',
            'scope = "read"',
            f'token_file = "{directory / "read.token"}"',
            "",
        ]
    )


class AdminApi:
    def __init__(self, port: int, token: str = OPERATE_TOKEN) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.token = token

    def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 60.0,
    ) -> tuple[int, Any]:
        sent = {"Authorization": f"Bearer {token or self.token}"} if headers is None else headers
        request = urllib.request.Request(
            self.base + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={**sent, "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def ok(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        status, answer = self.call(method, path, body)
        assert status == 200, (method, path, status, answer)
        return answer


def admin_cli(port: int, *words: str, token_file: Path) -> subprocess.CompletedProcess[str]:
    """`isms-bridge admin --url ... --token-file ... WORDS`, run to its end."""
    return subprocess.run(
        [sys.executable, "-m", "bridge", "admin", "--url", f"http://127.0.0.1:{port}",
         "--token-file", str(token_file), *words],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
