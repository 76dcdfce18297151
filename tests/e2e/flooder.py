"""A hostile or clumsy ESME, run as its own process: binds, then writes submit_sm as fast as
the socket takes them for `seconds`, and either never reads or reads and ignores the window.

    python flooder.py HOST PORT BIND_HEX SUBMIT_HEX never_reads|ignores_window SECONDS

Prints "bound" once the bind is accepted, and at the end one JSON line: octets written,
answers read, and how many of them were ESME_RTHROTTLED. Standard library only.
"""

from __future__ import annotations

import json
import socket
import struct
import sys
import threading
import time

HEADER = struct.Struct(">IIII")
ESME_RTHROTTLED = 0x58
BLOCK = 2000  # PDUs per write


def read_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("closed by the bridge")
        data += chunk
    return data


def count_answers(sock: socket.socket, counts: dict[str, int]) -> None:
    buffer = bytearray()
    try:
        while chunk := sock.recv(1 << 16):
            buffer += chunk
            while len(buffer) >= 16:
                length, _command_id, status, _sequence = HEADER.unpack_from(buffer)
                if len(buffer) < length:
                    break
                del buffer[:length]
                counts["answers"] += 1
                counts["throttled"] += status == ESME_RTHROTTLED
    except OSError:
        return


def main() -> None:
    host, port, bind_hex, submit_hex, mode, seconds = sys.argv[1:7]
    template = bytes.fromhex(submit_hex)
    sock = socket.create_connection((host, int(port)))
    sock.sendall(bytes.fromhex(bind_hex))
    length, _command_id, status, _sequence = HEADER.unpack(read_exactly(sock, 16))
    read_exactly(sock, length - 16)
    if status != 0:
        raise SystemExit(f"bind refused: 0x{status:08x}")
    print("bound", flush=True)
    counts = {"answers": 0, "throttled": 0, "sent": 0}
    if mode == "ignores_window":
        threading.Thread(target=count_answers, args=(sock, counts), daemon=True).start()
    sock.settimeout(0.2)
    deadline = time.monotonic() + float(seconds)
    sequence = 2
    while time.monotonic() < deadline:
        block = b"".join(
            template[:12] + struct.pack(">I", number) + template[16:]
            for number in range(sequence, sequence + BLOCK)
        )
        sequence += BLOCK
        view = memoryview(block)
        while view and time.monotonic() < deadline:
            try:
                sent = sock.send(view)
            except TimeoutError:
                continue  # the bridge is not reading us: keep pushing until the deadline
            counts["sent"] += sent
            view = view[sent:]
    time.sleep(0.2)  # the last answers
    print(json.dumps(counts), flush=True)
    sock.close()


if __name__ == "__main__":
    main()
