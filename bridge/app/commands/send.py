"""`isms-bridge send`: a small SMPP client (smpplib), to test a running bridge end to end.

    isms-bridge send --config bridge.toml --to 60123456789 "Hello"
    isms-bridge send --host 127.0.0.1 --port 2775 --system-id esme1 --password secret1 \\
                     --to 60123456789 --to 60198765432 --from MyBrand --wait-receipt "Hello"

With --config, the address is the config's first SMPP listener and the login its first
account (or the one --system-id names); flags override. Long text is split like most ESMEs
split it (smpplib.gsm.make_parts: GSM 03.38, or UCS-2 when a character needs it, with an
8-bit UDH). Prints each part's message_id, or its error status by name, code and in words
(`refused: ESME_RINVDSTADR (0x0000000B): invalid destination address`); --wait-receipt binds
as a transceiver, asks for a receipt and prints it. Exit status: 0 all accepted (and, with
--wait-receipt, every receipt says ACCEPTD or DELIVRD), 1 any refused (or unanswered in
time), 2 cannot connect or bind.

Several destinations (`--to` given again): each gets its own submit_sm per part, pipelined
with at most `_WINDOW` unanswered, and each line of output starts with its destination. Not
one submit_multi: smpplib can neither build one nor read its answer (a submit_multi_resp
raises UnknownCommandError), so it would take hand-made PDUs and a reader of our own, and a
long text would need its parts tracked per destination from a resp that lists only the
failures. One submit_sm per destination and part works with every split smpplib makes, gives
every destination its own answer and message_id, and lets --wait-receipt tell whose receipt
came. Every destination given is sent and reported, in order (one given twice, twice).
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, TextIO

import smpplib.client
import smpplib.consts
import smpplib.exceptions
import smpplib.gsm

from bridge.app.commands.arguments import add_config, shown
from bridge.config import ConfigError, load_config
from bridge.pdu import status_description, status_name
from bridge.pipeline import UndecodableText, decode_text

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_CONNECT = 2
# Submits unanswered at once: within any SMSC's window (10 is usual, the bridge's is 100), so
# a long list of destinations is not refused ESME_RTHROTTLED for a full window.
_WINDOW = 10
# A listener on every interface is reached on loopback from the same host.
_WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # noqa: S104


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "send",
        help="send one message through a running bridge (an SMPP client)",
        description="Bind to a running bridge as an ESME (smpplib), send TEXT to every --to "
        "and print each answer; the address and login come from --config (its first "
        "listener and account) or from the flags, which win.",
    )
    parser.add_argument("text", help="the message text")
    parser.add_argument(
        "--to",
        required=True,
        action="append",
        help="destination number, e.g. 60123456789; give it again for more destinations",
    )
    parser.add_argument(
        "--from", dest="sender", default="", help="source_addr (sender ID; default: none)"
    )
    add_config(parser, required=False, text="take address and login from this config")
    parser.add_argument("--host", help="bridge address (default: the config's, else 127.0.0.1)")
    parser.add_argument("--port", type=int, help="bridge port (default: the config's, else 2775)")
    parser.add_argument("--system-id", help="SMPP login")
    parser.add_argument("--password", help="SMPP password")
    parser.add_argument(
        "--bind",
        choices=("transmitter", "transceiver"),
        default="transmitter",
        help="bind type; --wait-receipt always binds as transceiver (default: %(default)s)",
    )
    parser.add_argument(
        "--priority",
        type=int,
        default=0,
        choices=range(4),
        help="priority_flag (default: %(default)s)",
    )
    parser.add_argument("--wait-receipt", action="store_true", help="wait for the receipt")
    parser.add_argument(
        "--timeout", type=float, default=10.0, help="seconds to wait (default: %(default)g)"
    )
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
    except ConfigError as exc:
        print(f"isms-bridge send: {shown(exc)}", file=sys.stderr)
        return EXIT_CONNECT
    except ValueError as exc:
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
        print(f"isms-bridge send: bind refused: {describe(status)}", file=sys.stderr)
        return EXIT_CONNECT
    except (OSError, smpplib.exceptions.ConnectionError) as exc:
        print(f"isms-bridge send: cannot reach {where.host}:{where.port}: {exc}", file=sys.stderr)
        return EXIT_CONNECT
    try:
        return _exchange(client, args, out)
    finally:
        _close(client)


@dataclass(slots=True, kw_only=True)
class _Part:
    """One submit_sm: the destination (index into --to) and part it carries, and its answer."""

    destination: int
    number: int
    total: int
    sequence: int | None = None  # None: never sent (the deadline passed first)
    status: int | None = None  # None: no answer
    message_id: str = ""


def _exchange(client: smpplib.client.Client, args: argparse.Namespace, out: TextIO) -> int:
    answers: dict[int, tuple[int, str]] = {}
    receipts: list[Any] = []

    def answered(pdu: Any) -> None:
        answers.setdefault(pdu.sequence, (pdu.status, (pdu.message_id or b"").decode("latin-1")))

    def nacked(pdu: Any) -> None:
        # A generic_nack can answer a submit_sm too; smpplib hands it to this handler only.
        if pdu.command == "generic_nack":
            answers.setdefault(pdu.sequence, (pdu.status, ""))

    client.set_error_pdu_handler(nacked)
    client.set_message_sent_handler(answered)
    client.set_message_received_handler(lambda pdu: receipts.append(pdu))
    deadline = time.monotonic() + args.timeout
    parts = _submit_all(client, args, answers, deadline)
    _read_until(client, lambda: _unanswered(parts, answers) == 0, deadline)
    for part in parts:
        if part.sequence is not None and part.sequence in answers:
            part.status, part.message_id = answers[part.sequence]
    good = _print_answers(parts, args, out)
    if args.wait_receipt and any(part.status == 0 for part in parts):
        good = _await_receipts(client, parts, receipts, deadline, args, out) and good
    return EXIT_OK if good else EXIT_REFUSED


def _submit_all(
    client: smpplib.client.Client,
    args: argparse.Namespace,
    answers: dict[int, tuple[int, str]],
    deadline: float,
) -> list[_Part]:
    """Every part to every destination, in order, with at most `_WINDOW` unanswered."""
    parts: list[_Part] = []
    for index, destination in enumerate(args.to):
        # A split per destination: each message gets its own concatenation reference.
        chunks, data_coding, esm_class = smpplib.gsm.make_parts(args.text)
        for number, chunk in enumerate(chunks, start=1):
            part = _Part(destination=index, number=number, total=len(chunks))
            if _read_until(client, lambda: _unanswered(parts, answers) < _WINDOW, deadline):
                part.sequence = client.send_message(
                    source_addr_ton=_ton(args.sender),
                    source_addr=args.sender,
                    dest_addr_ton=_destination_ton(destination),
                    dest_addr_npi=1,
                    destination_addr=destination,
                    short_message=chunk,
                    data_coding=data_coding,
                    esm_class=esm_class,
                    priority_flag=args.priority,
                    registered_delivery=1 if args.wait_receipt else 0,
                ).sequence
            parts.append(part)  # sent or not, it is reported
    return parts


def _unanswered(parts: list[_Part], answers: dict[int, tuple[int, str]]) -> int:
    return sum(1 for p in parts if p.sequence is not None and p.sequence not in answers)


def _print_answers(parts: list[_Part], args: argparse.Namespace, out: TextIO) -> bool:
    """A line per part: accepted, refused (name, code and words), or not answered in time."""
    good = True
    for part in parts:
        where = _where(args.to, part.destination)
        if part.total > 1:
            where = f"{where} part {part.number}/{part.total}".lstrip()
        prefix = f"{where}: " if where else ""
        if part.status == 0:
            print(f"{prefix}accepted, message_id {part.message_id}", file=out)
            continue
        good = False
        if part.status is not None:
            print(f"{prefix}refused: {describe(part.status)}", file=out)
        elif part.sequence is None:
            print(f"{prefix}not sent: earlier submits unanswered in {args.timeout:g} s", file=out)
        else:
            print(f"{prefix}no answer within {args.timeout:g} s", file=out)
    return good


def _await_receipts(
    client: smpplib.client.Client,
    parts: list[_Part],
    receipts: list[Any],
    deadline: float,
    args: argparse.Namespace,
    out: TextIO,
) -> bool:
    """Wait for the receipt of every accepted part (the bridge sends one per message_id) and
    print each under its destination. True when all came and say ACCEPTD or DELIVRD."""
    owner = {part.message_id: part.destination for part in parts if part.status == 0}
    wanted = Counter(owner.values())
    got: dict[int, list[str]] = {index: [] for index in sorted(wanted)}
    sorted_in = 0

    def all_in() -> bool:
        nonlocal sorted_in
        for receipt in receipts[sorted_in:]:
            text = _receipt_text(receipt)
            index = owner.pop(_receipted_id(receipt, text), None)
            if index is None:  # held for an earlier message, or sent twice
                print(f"receipt for another message: {text}", file=out)
            else:
                got[index].append(text)
        sorted_in = len(receipts)
        return not owner

    good = _read_until(client, all_in, deadline)
    for index, texts in got.items():
        where = _where(args.to, index)
        for text in texts:
            print(f"{where} receipt: {text}".lstrip(), file=out)
            good = good and ("stat:ACCEPTD" in text or "stat:DELIVRD" in text)
        if len(texts) < wanted[index]:
            missing = f"receipts: {len(texts)} of {wanted[index]} within {args.timeout:g} s"
            print(f"{where} {missing}".lstrip(), file=out)
    return good


def describe(status: int) -> str:
    """`ESME_RINVDSTADR (0x0000000B): invalid destination address`."""
    return f"{status_name(status)} (0x{status:08X}): {status_description(status)}"


def _where(destinations: list[str], index: int) -> str:
    # One destination: the lines stay unprefixed, it is the one on the command line.
    return destinations[index] if len(destinations) > 1 else ""


def _receipted_id(receipt: Any, text: str) -> str:
    """The message_id a receipt is for: its receipted_message_id, else its text's `id:`."""
    tlv = getattr(receipt, "receipted_message_id", None)
    if tlv:
        return bytes(tlv).rstrip(b"\x00").decode("latin-1")
    found = re.match(r"id:(\S+)", text)
    return found.group(1) if found else ""


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
