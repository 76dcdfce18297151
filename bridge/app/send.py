"""`isms-bridge send`: a small SMPP client (smpplib), to test a running bridge end to end.

    isms-bridge send --config bridge.toml --to 60123456789 "Hello"
    isms-bridge send --host 127.0.0.1 --port 2775 --system-id esme1 --password secret1 \\
                     --to 60123456789 --from MyBrand --wait-receipt "Hello"

With --config, the address is the config's first SMPP listener and the login its first
account (or the one --system-id names); flags override. Long text is split like most ESMEs
split it (smpplib.gsm.make_parts: GSM 03.38, or UCS-2 when a character needs it, with an
8-bit UDH). Prints each part's message_id or its error status by name; --wait-receipt binds
as a transceiver, asks for a receipt and prints it. Exit status: 0 all accepted (and, with
--wait-receipt, every receipt says ACCEPTD or DELIVRD), 1 refused, 2 cannot connect or bind.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import smpplib.client
import smpplib.consts
import smpplib.exceptions
import smpplib.gsm

from bridge.config import ConfigError, load_config
from bridge.pdu import status_name
from bridge.pipeline import UndecodableText, decode_text

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_CONNECT = 2
# A listener on every interface is reached on loopback from the same host.
_WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # noqa: S104


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "send", help="send one message through a running bridge (an SMPP client)"
    )
    parser.add_argument("text", help="the message text")
    parser.add_argument("--to", required=True, help="destination number, e.g. 60123456789")
    parser.add_argument("--from", dest="sender", default="", help="source_addr (sender ID)")
    parser.add_argument("--config", type=Path, help="take address and login from this config")
    parser.add_argument("--host", help="bridge address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="bridge port (default 2775)")
    parser.add_argument("--system-id", help="SMPP login")
    parser.add_argument("--password", help="SMPP password")
    parser.add_argument(
        "--bind",
        choices=("transmitter", "transceiver"),
        default="transmitter",
        help="bind type (--wait-receipt always binds as transceiver)",
    )
    parser.add_argument("--priority", type=int, default=0, choices=range(4), help="priority_flag")
    parser.add_argument("--wait-receipt", action="store_true", help="wait for the receipt")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait (default 10)")
    parser.set_defaults(handler=run)


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    host: str
    port: int
    system_id: str
    password: str


def target(args: argparse.Namespace) -> Target:
    """Where to connect and who to bind as: flags over the config over defaults."""
    host, port, system_id, password = "127.0.0.1", 2775, args.system_id, args.password
    if args.config is not None:
        config = load_config(args.config)
        host = _WILDCARDS.get(config.smpp.hosts[0], config.smpp.hosts[0])
        port = config.smpp.port
        accounts = [a for a in config.accounts if system_id in (None, a.system_id)]
        if not accounts:
            raise ConfigError(config.path, "accounts", f"no account with system_id {system_id!r}")
        system_id = accounts[0].system_id
        password = password if password is not None else accounts[0].password
    if not system_id or password is None:
        raise ValueError("give --system-id and --password, or --config")
    return Target(
        host=args.host or host,
        port=args.port if args.port is not None else port,
        system_id=system_id,
        password=password,
    )


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out if out is not None else sys.stdout
    logging.getLogger("smpp").setLevel(logging.CRITICAL)  # smpplib's own chatter
    try:
        where = target(args)
    except (ConfigError, ValueError) as exc:
        print(f"isms-bridge send: {exc}", file=sys.stderr)
        return EXIT_CONNECT
    client = smpplib.client.Client(
        where.host, where.port, timeout=args.timeout, allow_unknown_opt_params=True
    )
    try:
        client.connect()
        bind = "transceiver" if args.wait_receipt else args.bind
        getattr(client, f"bind_{bind}")(system_id=where.system_id, password=where.password)
    except smpplib.exceptions.PDUError as exc:
        status = exc.args[1] if len(exc.args) > 1 else 0
        print(f"isms-bridge send: bind refused: {status_name(status)}", file=sys.stderr)
        return EXIT_CONNECT
    except (OSError, smpplib.exceptions.ConnectionError) as exc:
        print(f"isms-bridge send: cannot reach {where.host}:{where.port}: {exc}", file=sys.stderr)
        return EXIT_CONNECT
    try:
        return _exchange(client, args, out)
    finally:
        _close(client)


def _exchange(client: smpplib.client.Client, args: argparse.Namespace, out: TextIO) -> int:
    parts, data_coding, esm_class = smpplib.gsm.make_parts(args.text)
    answers: dict[int, tuple[int, str]] = {}
    receipts: list[Any] = []
    client.set_error_pdu_handler(lambda pdu: None)
    client.set_message_sent_handler(
        lambda pdu: answers.setdefault(
            pdu.sequence, (pdu.status, (pdu.message_id or b"").decode("latin-1"))
        )
    )
    client.set_message_received_handler(lambda pdu: receipts.append(pdu))
    sequences = [
        client.send_message(
            source_addr_ton=_ton(args.sender),
            source_addr=args.sender,
            dest_addr_ton=_destination_ton(args.to),
            dest_addr_npi=1,
            destination_addr=args.to,
            short_message=part,
            data_coding=data_coding,
            esm_class=esm_class,
            priority_flag=args.priority,
            registered_delivery=1 if args.wait_receipt else 0,
        ).sequence
        for part in parts
    ]
    deadline = time.monotonic() + args.timeout
    if not _read_until(client, lambda: all(s in answers for s in sequences), deadline):
        print(f"no answer within {args.timeout:g} s", file=out)
        return EXIT_REFUSED
    accepted: list[str] = []
    for number, sequence in enumerate(sequences, start=1):
        status, message_id = answers[sequence]
        where = f"part {number}/{len(sequences)}: " if len(sequences) > 1 else ""
        if status == 0:
            accepted.append(message_id)
            print(f"{where}accepted, message_id {message_id}", file=out)
        else:
            print(f"{where}refused: {status_name(status)} (0x{status:08X})", file=out)
    if len(accepted) < len(sequences):
        return EXIT_REFUSED
    if not args.wait_receipt:
        return EXIT_OK
    if not _read_until(client, lambda: len(receipts) >= len(accepted), deadline):
        print(f"receipts: {len(receipts)} of {len(accepted)} within {args.timeout:g} s", file=out)
        return EXIT_REFUSED
    good = True
    for receipt in receipts:
        text = _receipt_text(receipt)
        print(f"receipt: {text}", file=out)
        good = good and ("stat:ACCEPTD" in text or "stat:DELIVRD" in text)
    return EXIT_OK if good else EXIT_REFUSED


def _read_until(client: smpplib.client.Client, done: Any, deadline: float) -> bool:
    while not done():
        if time.monotonic() > deadline:
            return False
        try:
            client.read_once()
        except TimeoutError:
            continue
    return True


def _receipt_text(receipt: Any) -> str:
    octets = bytes(receipt.short_message or b"")
    try:
        return decode_text(int(receipt.data_coding or 0), octets)
    except UndecodableText:
        return octets.decode("latin-1")


def _ton(sender: str) -> int:
    # SMPP 3.4 §5.2.5: an alphanumeric sender is TON 5; a number is left "unknown".
    return 5 if sender and not sender.lstrip("+").isdigit() else 0


def _destination_ton(number: str) -> int:
    # SMPP 3.4 §5.2.5: a number with a trunk 0 (0123456789) is national, TON 2, so the bridge
    # puts the default country code in front; anything else is sent as international.
    national = number.startswith("0") and not number.startswith("00")
    return 2 if national else 1


def _close(client: smpplib.client.Client) -> None:
    try:
        if client.state in (
            smpplib.consts.SMPP_CLIENT_STATE_BOUND_TX,
            smpplib.consts.SMPP_CLIENT_STATE_BOUND_TRX,
        ):
            client.unbind()
    except (OSError, smpplib.exceptions.PDUError, smpplib.exceptions.ConnectionError):
        pass
    finally:
        client.disconnect()
