#!/usr/bin/python3
"""A recording SMTP peer on loopback, for cairn's email delivery tests and benches.

Run with /usr/bin/python3 (Debian's python3-aiosmtpd is importable only there):

    /usr/bin/python3 tests/peers/smtp_peer.py --dir DIR [--port 0]
        [--reject ADDR:CODE ...] [--count-only] [--exit-with-parent]

Prints one line `listening <port>` on stdout once it accepts connections. For every
accepted message it writes the DATA bytes exactly as received (dot-unstuffed, CRLF
line ends) to DIR/<n>.eml (n = 1, 2, ...) and then appends one JSON line

    {"n": n, "mail_from": "...", "rcpt_tos": ["..."], "file": "<n>.eml", "size": bytes}

to DIR/index.jsonl. The .eml is written atomically (tmp file + rename) before its index
line is appended (one O_APPEND write), so a reader that sees an index line can read its
.eml; a reader should ignore a last line that has no trailing newline yet.

--reject user@x.example:550   RCPT TO that address -> 550 5.1.1 No such user
--reject user@x.example:451   RCPT TO that address -> 451 4.3.0 Try again later
  (any other code C -> "C Rejected"); addresses compare case-insensitively. The flag
  may be repeated and takes several values.
--count-only                  store nothing, just count messages (benches); --dir is
                              then optional.

--exit-with-parent            also stop when the process that started it exits (Linux
                              PR_SET_PDEATHSIG); recommended when a test spawns it.

Runs until SIGTERM/SIGINT, then prints `count <n>` on stdout and exits 0.
"""

import argparse
import asyncio
import ctypes
import json
import os
import signal
import socket
import sys

from aiosmtpd.smtp import SMTP

REJECT_TEXT = {
    550: "550 5.1.1 No such user",
    451: "451 4.3.0 Try again later",
}

DATA_SIZE_LIMIT = 256 * 1024 * 1024


def die_with_parent():
    """Best effort: get SIGTERM when the parent exits (Linux prctl PR_SET_PDEATHSIG)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() == 1:  # parent already gone before prctl
            os.kill(os.getpid(), signal.SIGTERM)
    except Exception:
        pass


def parse_rejects(items):
    rejects = {}
    for item in items or []:
        addr, sep, code = item.rpartition(":")
        if not sep or not addr or not code.isdigit() or not (400 <= int(code) <= 599):
            raise SystemExit(f"smtp_peer: bad --reject {item!r}; want ADDR:CODE, e.g. user@x.example:550")
        code = int(code)
        rejects[addr.strip().lower()] = REJECT_TEXT.get(code, f"{code} Rejected")
    return rejects


def write_atomic(path, data):
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


class Handler:
    def __init__(self, directory, rejects, count_only):
        self.dir = directory
        self.rejects = rejects
        self.count_only = count_only
        self.count = 0
        self.index_path = os.path.join(directory, "index.jsonl") if directory else None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.rejects.get(address.strip().lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        # Handlers run on the single event-loop thread: n is unique without locking.
        self.count += 1
        n = self.count
        if self.count_only:
            return "250 OK"
        raw = envelope.original_content
        if raw is None:
            raw = envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode("utf-8", "surrogateescape")
        name = f"{n}.eml"
        write_atomic(os.path.join(self.dir, name), raw)
        line = json.dumps({
            "n": n,
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "file": name,
            "size": len(raw),
        }) + "\n"
        # One O_APPEND write per line, after the .eml is in place.
        fd = os.open(self.index_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)
        return f"250 OK queued as {n}"


async def serve(args, handler):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(1024)
    sock.setblocking(False)
    port = sock.getsockname()[1]

    def factory():
        return SMTP(
            handler,
            hostname="smtp-peer.test",
            decode_data=False,
            enable_SMTPUTF8=True,
            data_size_limit=DATA_SIZE_LIMIT,
        )

    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, sock=sock)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    sys.stdout.write(f"listening {port}\n")
    sys.stdout.flush()
    await stop.wait()
    server.close()
    sys.stdout.write(f"count {handler.count}\n")
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser(description="Recording SMTP peer for cairn tests.")
    ap.add_argument("--dir", help="where to store <n>.eml and index.jsonl")
    ap.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--reject", action="extend", nargs="+", default=[], metavar="ADDR:CODE")
    ap.add_argument("--count-only", action="store_true")
    ap.add_argument("--exit-with-parent", action="store_true",
                    help="get SIGTERM when the parent process exits (for peers spawned by tests)")
    args = ap.parse_args()

    rejects = parse_rejects(args.reject)
    if not args.count_only:
        if not args.dir:
            ap.error("--dir is required unless --count-only")
        os.makedirs(args.dir, exist_ok=True)
    if args.exit_with_parent:
        die_with_parent()
    handler = Handler(args.dir, rejects, args.count_only)
    asyncio.run(serve(args, handler))


if __name__ == "__main__":
    main()
