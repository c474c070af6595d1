#!/usr/bin/python3
"""Parse and check one stored message (e.g. from smtp_peer.py) the way a strict reader would.

    /usr/bin/python3 tests/peers/mail_check.py FILE.eml \
        [--dkim-txt 'selector._domainkey.domain=v=DKIM1; k=rsa; p=...' ...]

Parses with email.message_from_bytes(data, policy=email.policy.default). Any parse
defect (on the message, on any MIME part, or on any header value) prints the defects on
stderr and exits 1. Otherwise prints ONE JSON object (UTF-8) on stdout and exits 0:

  headers        {lowercased name: [decoded values, in order]}
  subject, from, to, content_type     decoded strings (null when absent)
  from_addresses, to_addresses        [{"display_name", "addr_spec"}]
  parts          every non-multipart part, in walk order:
                 {"content_type", "charset", "cte", "filename", "size", "text"}
                 (text: decoded str for text/* parts, else null; size: decoded bytes)
  text, html     the text/plain and text/html bodies (get_body), null when absent
                 (in every decoded text, CRLF line ends are turned into \\n)
  dkim           {"present", "valid", "signed_headers" (lowercased h= names), "tags"
                  ({"a","c","d","s","i"} when present), "error" (why invalid, or null)}
  list_unsubscribe, list_unsubscribe_post   decoded header values or null
  raw            {"size", "max_line_length" (octets, without CRLF), "bare_lf",
                  "bare_cr", "eight_bit" (any byte >= 0x80)}

DKIM: python3-dkim's verify over the raw bytes, with DNS answered from --dkim-txt
(name=value; the name may carry a trailing dot). Unknown names get b''. Works for
rsa-sha256 and ed25519-sha256. An invalid signature does NOT change the exit status;
check dkim.valid in the output.

Exit status: 0 ok, 1 defects, 2 usage / unreadable file.
"""

import argparse
import email
import email.policy
import json
import logging
import re
import sys

try:
    import dkim
    import dkim.util
except ImportError:  # pragma: no cover - Debian's python3-dkim lives under /usr/bin/python3
    dkim = None


def fail(msg, code=1):
    sys.stderr.write(f"mail_check: {msg}\n")
    sys.exit(code)


def parse_txt_args(items):
    table = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            fail(f"bad --dkim-txt {item!r}; want NAME=VALUE", 2)
        table[name.strip().rstrip(".").lower()] = value.strip().encode("ascii")
    return table


def header_str(value):
    return None if value is None else str(value)


def addresses(value):
    if value is None:
        return []
    try:
        return [{"display_name": a.display_name, "addr_spec": a.addr_spec} for a in value.addresses]
    except AttributeError:
        return []


def collect_defects(msg):
    found = []
    for i, part in enumerate(msg.walk()):
        where = "message" if i == 0 else f"part {i} ({part.get_content_type()})"
        for d in part.defects:
            found.append(f"{where}: {type(d).__name__}: {d}")
        for name, value in part.items():
            for d in getattr(value, "defects", ()):
                found.append(f"{where}: header {name}: {type(d).__name__}: {d}")
    return found


def part_info(part):
    ctype = part.get_content_type()
    info = {
        "content_type": ctype,
        "charset": part.get_content_charset(),
        "cte": part.get("Content-Transfer-Encoding") and str(part["Content-Transfer-Encoding"]).lower(),
        "filename": part.get_filename(),
        "size": None,
        "text": None,
    }
    payload = part.get_payload(decode=True)
    if payload is not None:
        info["size"] = len(payload)
    if part.get_content_maintype() == "text":
        info["text"] = nl(part.get_content())
    return info


def nl(text):
    return text.replace("\r\n", "\n")


def body_text(msg, kind):
    part = msg.get_body(preferencelist=(kind,))
    return None if part is None else nl(part.get_content())


def raw_stats(data):
    lines = data.split(b"\n")
    max_len = 0
    for line in lines:
        n = len(line) - 1 if line.endswith(b"\r") else len(line)
        max_len = max(max_len, n)
    return {
        "size": len(data),
        "max_line_length": max_len,
        "bare_lf": re.search(rb"(?<!\r)\n", data) is not None,
        "bare_cr": re.search(rb"\r(?!\n)", data) is not None,
        "eight_bit": re.search(rb"[\x80-\xff]", data) is not None,
    }


def check_dkim(data, msg, txt):
    out = {"present": False, "valid": False, "signed_headers": [], "tags": {}, "error": None}
    sig_value = None
    for name, value in msg.raw_items():
        if name.lower() == "dkim-signature":
            sig_value = value
            break
    if sig_value is None:
        return out
    out["present"] = True
    if dkim is None:
        out["error"] = "python3-dkim not importable (run with /usr/bin/python3)"
        return out
    try:
        unfolded = re.sub(r"\r?\n", "", str(sig_value)).encode("ascii", "surrogateescape")
        tags = dkim.util.parse_tag_value(unfolded)
        h = tags.get(b"h", b"").decode("ascii", "replace")
        out["signed_headers"] = [x.strip().lower() for x in h.split(":") if x.strip()]
        out["tags"] = {k: tags[k.encode()].decode("ascii", "replace") for k in ("a", "c", "d", "s", "i") if k.encode() in tags}
    except Exception as e:  # malformed tag list
        out["error"] = f"cannot parse DKIM-Signature: {e}"
        return out

    def dnsfunc(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode("ascii", "replace")
        return txt.get(name.rstrip(".").lower(), b"")

    logged = []

    class Collect(logging.Handler):
        def emit(self, record):
            logged.append(record.getMessage())

    log = logging.getLogger("mail_check.dkim")
    log.propagate = False
    log.setLevel(logging.INFO)
    log.addHandler(Collect())
    try:
        d = dkim.DKIM(data, logger=log)
        out["valid"] = bool(d.verify(dnsfunc=dnsfunc))
        if not out["valid"]:
            out["error"] = "; ".join(logged) or "signature did not verify"
    except dkim.DKIMException as e:
        out["error"] = f"{type(e).__name__}: {e}"
    except Exception as e:
        out["error"] = f"{type(e).__name__}: {e}"
    return out


def main():
    ap = argparse.ArgumentParser(description="Parse, check and describe one .eml file.")
    ap.add_argument("file")
    ap.add_argument("--dkim-txt", action="append", default=[], metavar="NAME=VALUE",
                    help="TXT record to serve, e.g. 'sel._domainkey.example.com=v=DKIM1; k=rsa; p=...'")
    args = ap.parse_args()
    txt = parse_txt_args(args.dkim_txt)
    try:
        with open(args.file, "rb") as f:
            data = f.read()
    except OSError as e:
        fail(f"cannot read {args.file}: {e}", 2)

    msg = email.message_from_bytes(data, policy=email.policy.default)
    defects = collect_defects(msg)
    if defects:
        fail("message has defects:\n  " + "\n  ".join(defects))

    headers = {}
    for name, value in msg.items():
        headers.setdefault(name.lower(), []).append(str(value))

    try:
        result = describe(msg, headers, data, txt)
    except (LookupError, UnicodeError, ValueError) as e:
        fail(f"cannot decode message content: {type(e).__name__}: {e}")
    # Parts' defects may only surface while decoding content; check once more.
    late = list(dict.fromkeys(collect_defects(msg)))
    if late:
        fail("message has defects:\n  " + "\n  ".join(late))
    out = json.dumps(result, ensure_ascii=False) + "\n"
    # UTF-8; a lone surrogate (undecodable input byte) becomes a \udcXX JSON escape.
    sys.stdout.buffer.write(out.encode("utf-8", "backslashreplace"))
    sys.stdout.flush()


def describe(msg, headers, data, txt):
    return {
        "headers": headers,
        "subject": header_str(msg["subject"]),
        "from": header_str(msg["from"]),
        "to": header_str(msg["to"]),
        "from_addresses": addresses(msg["from"]),
        "to_addresses": addresses(msg["to"]),
        "content_type": msg.get_content_type(),
        "parts": [part_info(p) for p in msg.walk() if not p.is_multipart()],
        "text": body_text(msg, "plain"),
        "html": body_text(msg, "html"),
        "dkim": check_dkim(data, msg, txt),
        "list_unsubscribe": header_str(msg["list-unsubscribe"]),
        "list_unsubscribe_post": header_str(msg["list-unsubscribe-post"]),
        "raw": raw_stats(data),
    }


if __name__ == "__main__":
    main()
