#!/usr/bin/env python3
"""Writes the seed corpora of fuzz_h2_server and fuzz_h2_client (fuzz/corpus/<target>/): scripts
of records as fuzz/h2_properties.h describes them, with HTTP/2 frames written by hand (HPACK
literals without indexing, or indexed references). Run from the repository's root; rewrites the
seeds it names."""
import os
import struct

OUT = "fuzz/corpus/fuzz_h2_server"
DATA, HEADERS, PRIORITY, RST, SETTINGS, PING, GOAWAY, WINDOW, CONT = 0, 1, 2, 3, 4, 6, 7, 8, 9
END_STREAM, ACK, END_HEADERS = 1, 1, 4


def frame(t, flags, sid, payload=b""):
    n = len(payload)
    return bytes([n >> 16, (n >> 8) & 255, n & 255, t, flags]) + struct.pack(">I", sid) + payload


def lit(name, value, index=False):
    """A literal field with a new name (with incremental indexing when index)."""
    name, value = name.encode(), value.encode()
    assert len(name) < 127
    out = bytes([0x40 if index else 0x00, len(name)]) + name
    if len(value) < 127:
        return out + bytes([len(value)]) + value
    rest = len(value) - 127
    out += bytes([127])
    while rest >= 128:
        out += bytes([(rest & 127) | 128])
        rest >>= 7
    return out + bytes([rest]) + value


def block(fields, index=False):
    return b"".join(lit(n, v, index) for n, v in fields)


def req(path="/", method="GET", extra=()):
    return [(":method", method), (":scheme", "https"), (":path", path),
            (":authority", "a.test")] + list(extra)


def headers(sid, fields, end=True, index=False):
    return frame(HEADERS, END_HEADERS | (END_STREAM if end else 0), sid, block(fields, index))


def settings(entries=()):
    return frame(SETTINGS, 0, 0, b"".join(struct.pack(">HI", i, v) for i, v in entries))


START = settings() + frame(SETTINGS, ACK, 0)


def client(b):
    out = b""
    while b:
        piece, b = b[:4095], b[4095:]
        out += bytes([0]) + struct.pack("<H", len(piece)) + piece
    return out


def respond(text, stream_pick=0):
    b = text.encode() if isinstance(text, str) else text
    return bytes([1 | (stream_pick << 3)]) + struct.pack("<H", len(b)) + b


def read(n=4095):
    return bytes([4]) + struct.pack("<H", n)


END_RESP, RESET, TICK, GOAWAY_OP, CONSUME = 2, 3, 5, 6, 7

seeds = {
    "get": client(START + headers(1, req("/a?b=1", extra=[("cookie", "a=1"), ("cookie", "b=2")])))
    + respond("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello")
    + read(),
    "post-content-length": client(START + headers(1, req("/up", "POST", [("content-length", "10")]),
                                                  end=False)
                                  + frame(DATA, 0, 1, b"01234") + frame(DATA, END_STREAM, 1, b"56789"))
    + bytes([CONSUME]) + respond("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n") + read(),
    "post-chunked-trailers": client(START + headers(3, req("/up", "PUT"), end=False)
                                    + frame(DATA, 0, 3, b"abc") + frame(DATA, 0, 3, b"defgh")
                                    + headers(3, [("x-checksum", "42")]))
    + respond("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nx: 1\r\n\r\n")
    + read(),
    "interim-and-chunked": client(START + headers(1, req()))
    + respond("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r")
    + respond("\nhello\r\n6\r\n world\r\n0\r\n\r\n") + read(),
    "head": client(START + headers(1, req("/", "HEAD")))
    + respond("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n") + read(),
    "until-close": client(START + headers(1, req()))
    + respond("HTTP/1.1 200 OK\r\n\r\nsome body") + bytes([END_RESP]) + read(),
    "truncated": client(START + headers(1, req()))
    + respond("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc") + bytes([END_RESP]) + read(),
    "malformed-response": client(START + headers(1, req())) + respond("HTTP/1.1 2OO OK\r\n\r\n")
    + read(),
    "two-streams-interleaved": client(START + headers(1, req("/1")) + headers(3, req("/3")))
    + respond("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nab", 0)
    + respond("HTTP/1.1 204 No Content\r\n\r\n", 1) + respond("c", 0) + read(),
    "reset-by-client": client(START + headers(1, req()) + frame(RST, 0, 1, struct.pack(">I", 8)))
    + respond("HTTP/1.1 200 OK\r\n\r\n") + read(),
    "reset-by-tide": client(START + headers(1, req("/", "POST"), end=False))
    + bytes([RESET | (8 << 3)]) + read(),
    "goaway": client(START + headers(1, req())) + bytes([GOAWAY_OP])
    + client(headers(3, req())) + respond("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    + read(),
    "flow-control": client(settings([(4, 100)]) + frame(SETTINGS, ACK, 0) + headers(1, req()))
    + respond("HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n" + "x" * 3000) + read()
    + client(frame(WINDOW, 0, 1, struct.pack(">I", 1000))) + respond("") + read()
    + client(frame(WINDOW, 0, 1, struct.pack(">I", 5000))) + respond("") + read(),
    "zero-window-stall": client(settings([(4, 0)]) + frame(SETTINGS, ACK, 0) + headers(1, req()))
    + respond("HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n" + "z" * 2000)
    + bytes([TICK | (1 << 3), TICK | (6 << 3)]) + read(),
    "invalid-uppercase": client(START + headers(1, req(extra=[("X-Upper", "1")]))) + read(),
    "invalid-connection-header": client(START + headers(1, req(extra=[("connection", "close")])))
    + read(),
    "invalid-te": client(START + headers(1, req(extra=[("te", "gzip")]))) + read(),
    "invalid-content-length-mismatch": client(START + headers(1, req("/", "POST",
                                                                     [("content-length", "9")]),
                                                              end=False)
                                              + frame(DATA, END_STREAM, 1, b"123")) + read(),
    "connect": client(START + frame(HEADERS, END_HEADERS, 1,
                                    block([(":method", "CONNECT"), (":authority", "x:443")])))
    + read(),
    "too-large-head": client(START + headers(1, req(extra=[("x-%d" % i, "v" * 100)
                                                           for i in range(30)]))) + read(),
    "hpack-bomb": client(START + headers(1, req(extra=[("x-bomb", "b" * 1500)]), index=True)
                         + frame(HEADERS, END_HEADERS | END_STREAM, 3,
                                 block(req()) + b"\xbe" * 3000)) + read(),
    "invalid-table-size-update": client(START + frame(HEADERS, END_HEADERS | END_STREAM, 1,
                                                      b"\x3f\xe1\x3f" + block(req()))) + read(),
    "rapid-reset": client(START + b"".join(headers(i, req(), end=False)
                                           + frame(RST, 0, i, struct.pack(">I", 8))
                                           for i in range(1, 60, 2))) + read(),
    "ping-flood": client(START) + b"".join(client(frame(PING, 0, 0, b"p" * 8) * 40)
                                           for _ in range(3)) + read(),
    "empty-data-flood": client(START + headers(1, req("/", "POST"), end=False)
                               + frame(DATA, 0, 1) * 30) + read(),
    "priority-flood": client(START + b"".join(frame(PRIORITY, 0, i, b"\0\0\0\0\x0f")
                                              for i in range(3, 70, 2))) + read(),
    "continuation-flood": client(START + frame(HEADERS, 0, 1, block(req()))
                                 + frame(CONT, 0, 1, lit("x-c", "c" * 100)) * 12) + read(),
    "too-many-settings": client(START + settings([(3, 100)] * 40)) + read(),
    "garbage": client(b"\x00\x01\x02 not a frame at all") + read(),
}


# The client target: 1|k<<2 submits request k (0 GET, 1 HEAD, 2 POST with a length, 3 PUT
# chunked with trailers), 0 feeds target bytes, 2 lets the target read, 3 hands credit back.
def target(b):
    out = b""
    while b:
        piece, b = b[:4095], b[4095:]
        out += bytes([0]) + struct.pack("<H", len(piece)) + piece
    return out


def submit(k):
    return bytes([1 | (k << 2)])


def target_reads():
    return bytes([2]) + struct.pack("<H", 4095)


CREDIT = bytes([3 | (2 << 2)])
TSTART = settings() + frame(SETTINGS, ACK, 0)


def status(code, extra=()):
    return block([(":status", str(code))] + list(extra))


client_seeds = {
    "get-content-length": submit(0) + target_reads()
    + target(TSTART + frame(HEADERS, END_HEADERS, 1, status(200, [("content-length", "5")]))
             + frame(DATA, END_STREAM, 1, b"hello")) + CREDIT,
    "get-chunked": submit(0) + target_reads()
    + target(TSTART + frame(HEADERS, END_HEADERS, 1, status(200))
             + frame(DATA, 0, 1, b"abc") + frame(DATA, END_STREAM, 1, b"de")) + CREDIT,
    "grpc-trailers": submit(2) + target_reads()
    + target(TSTART + frame(HEADERS, END_HEADERS, 1, status(200, [("content-type",
                                                                   "application/grpc")]))
             + frame(DATA, 0, 1, b"\0\0\0\0\x02hi")
             + frame(HEADERS, END_HEADERS | END_STREAM, 1, block([("grpc-status", "0")]))),
    "grpc-trailers-only": submit(2) + target_reads()
    + target(TSTART + frame(HEADERS, END_HEADERS | END_STREAM, 1,
                            status(200, [("grpc-status", "14"), ("grpc-message", "down")]))),
    "head": submit(1) + target_reads()
    + target(TSTART + frame(HEADERS, END_HEADERS | END_STREAM, 1,
                            status(200, [("content-length", "9")]))),
    "interim-then-204": submit(3) + target_reads()
    + target(TSTART + frame(HEADERS, END_HEADERS, 1, status(100))
             + frame(HEADERS, END_HEADERS | END_STREAM, 1, status(204))),
    "two-streams": submit(0) + submit(3) + target_reads()
    + target(TSTART + frame(HEADERS, END_HEADERS, 3, status(200))
             + frame(HEADERS, END_HEADERS, 1, status(404, [("content-length", "0")]))
             + frame(DATA, END_STREAM, 1) + frame(DATA, END_STREAM, 3, b"x")) + CREDIT,
    "reset-by-target": submit(0) + target_reads()
    + target(TSTART + frame(RST, 0, 1, struct.pack(">I", 7))),
    "goaway-from-target": submit(0) + submit(0) + target_reads()
    + target(TSTART + frame(GOAWAY, 0, 0, struct.pack(">II", 1, 0))
             + frame(HEADERS, END_HEADERS | END_STREAM, 1, status(200))),
    "window-updates": submit(2) + target_reads()
    + target(settings([(4, 1)]) + frame(SETTINGS, ACK, 0) + frame(WINDOW, 0, 1,
                                                                  struct.pack(">I", 100)))
    + target_reads(),
    "invalid-connection-header": submit(0) + target_reads()
    + target(TSTART + frame(HEADERS, END_HEADERS | END_STREAM, 1,
                            status(200, [("connection", "close")]))),
    "invalid-garbage": submit(0) + target(b"HTTP/1.1 200 OK\r\n\r\n"),
    "local-goaway-and-reset": submit(0) + submit(1) + bytes([3]) + bytes([3 | (1 << 2)])
    + target_reads() + target(TSTART),
}

for out, corpus in ((OUT, seeds), ("fuzz/corpus/fuzz_h2_client", client_seeds)):
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(corpus.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print(f"{len(corpus)} seeds in {out}")
