"""Request shapes of the two API flavours: form POST, GET, and REST (JSON + Basic auth)."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlencode, urlsplit

from hypothesis import given
from hypothesis import strategies as st

from bridge.upstream import (
    Api,
    HttpMethod,
    IsmsCredentials,
    IsmsMessage,
    SmsType,
    balance_request,
    balance_url,
    send_request,
)

ENDPOINT = "https://www.isms.com.my/isms_send_all_id.php"
CREDENTIALS = IsmsCredentials(username="isms", password="p&ss=w0rd")


def message(**overrides: object) -> IsmsMessage:
    fields: dict[str, object] = {
        "credentials": CREDENTIALS,
        "destinations": ("60123456789", "60198765432"),
        "text": "Hi, 你好 & 100% sure?",
        "sms_type": SmsType.UNICODE,
        "sender_id": "MyBrand",
    }
    fields.update(overrides)
    return IsmsMessage(**fields)  # type: ignore[arg-type]


def test_http_post_sends_every_parameter_as_a_utf8_form_body() -> None:
    request = send_request(Api.HTTP, HttpMethod.POST, ENDPOINT, message())
    assert request.method is HttpMethod.POST
    assert request.url == ENDPOINT
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = parse_qs(request.body.decode("ascii"), encoding="utf-8", strict_parsing=True)
    assert form == {
        "un": ["isms"],
        "pwd": ["p&ss=w0rd"],
        "dstno": ["60123456789;60198765432"],
        "msg": ["Hi, 你好 & 100% sure?"],
        "type": ["2"],
        "agreedterm": ["YES"],
        "sendid": ["MyBrand"],
    }


def test_http_post_keeps_the_password_out_of_the_url() -> None:
    request = send_request(Api.HTTP, HttpMethod.POST, ENDPOINT, message())
    assert "pwd" not in request.url and "?" not in request.url


def test_http_get_puts_the_parameters_in_the_query_string() -> None:
    request = send_request(Api.HTTP, HttpMethod.GET, ENDPOINT, message(sms_type=SmsType.ASCII))
    parts = urlsplit(request.url)
    query = parse_qs(parts.query, encoding="utf-8")
    assert request.method is HttpMethod.GET and request.body == b""
    assert parts.path == "/isms_send_all_id.php"
    assert query["agreedterm"] == ["YES"] and query["type"] == ["1"]
    assert query["pwd"] == ["p&ss=w0rd"]


def test_no_sendid_parameter_without_a_sender_id() -> None:
    request = send_request(Api.HTTP, HttpMethod.POST, ENDPOINT, message(sender_id=None))
    assert "sendid" not in parse_qs(request.body.decode())


def test_rest_sends_json_with_method_and_basic_auth() -> None:
    rest = "https://www.isms.com.my/RESTAPI.php"
    request = send_request(Api.REST, HttpMethod.GET, rest, message())
    assert request.method is HttpMethod.POST  # RESTAPI.php takes a JSON body
    assert request.headers["Content-Type"] == "application/json"
    token = request.headers["Authorization"].removeprefix("Basic ")
    assert base64.b64decode(token).decode() == "isms:p&ss=w0rd"
    assert json.loads(request.body.decode("utf-8")) == {
        "dstno": "60123456789;60198765432",
        "msg": "Hi, 你好 & 100% sure?",
        "type": "2",
        "agreedterm": "YES",
        "method": "isms_send_all_id",
        "sendid": "MyBrand",
    }


def test_rest_body_never_carries_the_password() -> None:
    request = send_request(Api.REST, HttpMethod.POST, "https://h/RESTAPI.php", message())
    assert b"p&ss" not in request.body


def test_balance_script_sits_beside_the_send_script() -> None:
    assert balance_url("http://127.0.0.1:8080/api/isms_send_all_id.php") == (
        "http://127.0.0.1:8080/api/isms_balance.php"
    )


def test_balance_request_posts_un_and_pwd() -> None:
    request = balance_request(HttpMethod.POST, ENDPOINT, CREDENTIALS)
    assert request.url == "https://www.isms.com.my/isms_balance.php"
    assert parse_qs(request.body.decode()) == {"un": ["isms"], "pwd": ["p&ss=w0rd"]}


def test_request_repr_shows_no_secret() -> None:
    request = send_request(Api.HTTP, HttpMethod.GET, ENDPOINT, message())
    assert "p%26ss" not in repr(request) and "p&ss" not in repr(request)


@given(
    username=st.text(min_size=1, max_size=12),
    password=st.text(max_size=12),
    sender_id=st.text(min_size=1, max_size=11),
)
def test_credentials_and_sender_id_encode_as_urlencode_does_every_time(
    username: str, password: str, sender_id: str
) -> None:
    # They are quoted once and looked up after: the second request must read the same.
    sent = message(
        credentials=IsmsCredentials(username=username, password=password), sender_id=sender_id
    )
    expected = urlencode({"un": username, "pwd": password})
    for _ in range(2):
        body = send_request(Api.HTTP, HttpMethod.POST, ENDPOINT, sent).body.decode("ascii")
        assert body.startswith(expected + "&dstno=")
        assert body.endswith("&sendid=" + urlencode({"": sender_id})[1:])
