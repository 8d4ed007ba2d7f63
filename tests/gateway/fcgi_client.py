#!/usr/bin/env python3
"""fcgi_client.py: a minimal FastCGI client for the keycard-fcgi tests.

    fcgi_client.py SOCKET ROLE [NAME=VALUE]... < body

SOCKET is a Unix socket path; ROLE is "responder" or "authorizer". Sends one
request (params, then stdin as the body) and prints the application's
FCGI_STDOUT on stdout and its FCGI_STDERR on stderr. Exit status 0 when the
request ended with FCGI_REQUEST_COMPLETE, 3 otherwise.

    fcgi_client.py --spawn SOCKET PROGRAM [ARG]...

binds and listens on SOCKET, then execs PROGRAM with the listening socket as
fd 0 (what spawn-fcgi and lighttpd's bin-path do)."""
import os
import socket
import struct
import sys
import threading

VERSION = 1
BEGIN, END, PARAMS, STDIN, STDOUT, STDERR = 1, 3, 4, 5, 6, 7


def record(rtype, content, req_id=1):
    out = b""
    while True:
        chunk, content = content[:65535], content[65535:]
        pad = (8 - len(chunk) % 8) % 8
        out += struct.pack("!BBHHBx", VERSION, rtype, req_id, len(chunk), pad) + chunk + b"\0" * pad
        if not content:
            return out


def nv_len(n):
    return struct.pack("!B", n) if n < 128 else struct.pack("!I", n | 0x80000000)


def pair(name, value):
    return nv_len(len(name)) + nv_len(len(value)) + name + value


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        got = s.recv(n - len(buf))
        if not got:
            raise EOFError("connection closed")
        buf += got
    return buf


def spawn(path, argv):
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(64)
    os.dup2(s.fileno(), 0)
    os.execv(argv[0], argv)


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "--spawn":
        spawn(sys.argv[2], sys.argv[3:])
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    path, role = sys.argv[1], {"responder": 1, "authorizer": 2}[sys.argv[2]]
    params = b""
    for a in sys.argv[3:]:
        k, _, v = a.partition("=")
        params += pair(k.encode(), v.encode())
    body = sys.stdin.buffer.read()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    # A server that never answers fails the check instead of hanging it.
    s.settimeout(float(os.environ.get("FCGI_TIMEOUT", "30")))
    msg = record(BEGIN, struct.pack("!HB5x", role, 0))
    msg += record(PARAMS, params) + record(PARAMS, b"")
    if role == 1:
        if body:
            msg += record(STDIN, body)
        # FCGI_STALL=1: a client that stops sending mid-body (the end of
        # stdin never comes; the connection stays open).
        if not os.environ.get("FCGI_STALL"):
            msg += record(STDIN, b"")
    # Send from a thread: the application may answer before it has read
    # the whole body, and both sides must keep moving.
    sender = threading.Thread(target=s.sendall, args=(msg,), daemon=True)
    sender.start()
    out, err = b"", b""
    while True:
        ver, rtype, _rid, clen, pad = struct.unpack("!BBHHBx", recv_exact(s, 8))
        content = recv_exact(s, clen + pad)[:clen]
        if rtype == STDOUT:
            out += content
        elif rtype == STDERR:
            err += content
        elif rtype == END:
            status, proto = struct.unpack("!IB3x", content)
            break
    sys.stdout.buffer.write(out)
    sys.stderr.buffer.write(err)
    return 0 if proto == 0 else 3


if __name__ == "__main__":
    sys.exit(main())
