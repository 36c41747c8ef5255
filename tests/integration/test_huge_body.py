#!/usr/bin/env python3
"""Bodies far over the 1 MiB limit, announced by Content-Length or sent
chunked, get 413 with the same JSON error shape as every other refusal, and
accept nothing. (Bodies just over 1 MiB are in test_bad_http.py.)"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, check_error, main, raw_request  # noqa: E402

MIB = 1024 * 1024


def test(d):
    d.wait_running("echo")
    before = d.accepted_total()
    for size in (2 * MIB + 1, 3 * MIB, 16 * MIB):
        body = ('{"type":"session.created","data":{"s":"%s"}}' % ("x" * size)).encode()
        check_error("body of %d bytes" % len(body), d.post_raw(body), 413)
        check(d.healthy(), "daemon unhealthy after a %d-byte body", len(body))

    # Chunked: no Content-Length to refuse it by, the limit applies as it arrives.
    head = (b"POST /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    parts = [b'{"type":"session.created","data":{"s":"'] + [b"x" * 65536] * 40 + [b'"}}']
    body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"
    check_error("chunked 2.5 MiB body", raw_request(d, head + body), 413)
    check(d.accepted_total() == before, "an oversize body was accepted")
    check(d.status("echo")["delivered"] == 0, "echo got an event")


main(test, plugins=["echo"])
