"""What the gRPC integration tests share (test_grpc_health, test_grpc_forward): Debian's python3
with python3-grpcio (the tests' own python may lack it), a real gRPC server for instances, a
real gRPC client driven from the test, and Debian's aws CLI against the tide server.

The server and the client use grpcio's generic handlers and callables: messages are bytes in,
bytes out, so no .proto and no protoc are needed."""

import base64
import json
import os
import select
import subprocess

DEBIAN_PYTHON = "/usr/bin/python3"
DEBIAN_AWS = "/usr/bin/aws"


def debian_grpc():
    """Whether Debian's python3 can import grpc."""
    return os.path.exists(DEBIAN_PYTHON) and subprocess.run(
        [DEBIAN_PYTHON, "-c", "import grpc"], capture_output=True).returncode == 0


NO_GRPC = ("Debian's python3-grpcio is not installed: scripts/deps.sh installs it "
           "(apt-get install python3-grpcio)")

# The gRPC server an instance runs (h2c on HOST:PORT). /AWS.ALB/healthcheck answers an empty
# message with OK; any method it has no handler for is UNIMPLEMENTED (grpc's own answer).
# tide.test.Echo, for calls through a load balancer:
#   Who      (unary)  the instance's id (TIDE_INSTANCE_ID)
#   Echo     (unary)  the request; the client's x-* metadata back as initial metadata, and the
#                     request's length as trailing metadata x-length
#   Fail     (unary)  NOT_FOUND "no such key", trailing metadata x-key (the request) and
#                     x-trace-bin (binary)
#   Slow     (unary)  sends its initial metadata (x-started) at once, then answers the
#                     instance's id after the request's seconds, or ends as soon as the call
#                     does (cancelled, or past its deadline)
#   Ended    (unary)  "instance id n": how many Slow calls ended before their time
#   Count    (server streaming)  the request's number of messages "i:instance id"; a request
#                     ending in "!" then ends with RESOURCE_EXHAUSTED "quota: 100% used, ünits"
#                     and trailing metadata x-used
#   Total    (client streaming)  "messages bytes" of what it got
#   Chat     (bidi)   "re:" + each message, as it comes
SERVER = r'''
import os, signal, threading, time
from concurrent import futures
import grpc

INSTANCE = os.environ.get("TIDE_INSTANCE_ID", "local").encode()
ended_early = []

def healthcheck(request, context):
    return b""

def who(request, context):
    return INSTANCE

def echo(request, context):
    context.send_initial_metadata(
        [(k, v) for k, v in context.invocation_metadata() if k.startswith("x-")])
    context.set_trailing_metadata([("x-length", str(len(request)))])
    return request

def fail(request, context):
    context.set_trailing_metadata([("x-key", request.decode()), ("x-trace-bin", b"\x00\xff\x01")])
    context.abort(grpc.StatusCode.NOT_FOUND, "no such key")

def slow(request, context):
    context.send_initial_metadata([("x-started", "1")])
    ended = threading.Event()
    context.add_callback(ended.set)  # runs when the call ends (a cancel, the deadline)
    if ended.wait(float(request)):
        ended_early.append(1)
    return INSTANCE

def ended(request, context):
    return b"%s %d" % (INSTANCE, len(ended_early))

def count(request, context):
    for i in range(int(request.rstrip(b"!"))):
        yield b"%d:%s" % (i, INSTANCE)
    if request.endswith(b"!"):
        context.set_trailing_metadata([("x-used", "100")])
        context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "quota: 100% used, \u00fcnits")

def total(requests, context):
    n = size = 0
    for m in requests:
        n, size = n + 1, size + len(m)
    return b"%d %d" % (n, size)

def chat(requests, context):
    for m in requests:
        yield b"re:" + m

handlers = [
    grpc.method_handlers_generic_handler("AWS.ALB", {
        "healthcheck": grpc.unary_unary_rpc_method_handler(healthcheck)}),
    grpc.method_handlers_generic_handler("tide.test.Echo", {
        "Who": grpc.unary_unary_rpc_method_handler(who),
        "Echo": grpc.unary_unary_rpc_method_handler(echo),
        "Fail": grpc.unary_unary_rpc_method_handler(fail),
        "Slow": grpc.unary_unary_rpc_method_handler(slow),
        "Ended": grpc.unary_unary_rpc_method_handler(ended),
        "Count": grpc.unary_stream_rpc_method_handler(count),
        "Total": grpc.stream_unary_rpc_method_handler(total),
        "Chat": grpc.stream_stream_rpc_method_handler(chat)})]
# SIGTERM and SIGINT wait for sigwait (blocked before grpc starts its threads, which inherit
# the mask; unblocked, SIGTERM would end the process at once).
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
server = grpc.server(futures.ThreadPoolExecutor(max_workers=8), handlers=handlers)
server.add_insecure_port(os.environ["HOST"] + ":" + os.environ["PORT"])
server.start()
signal.sigwait([signal.SIGTERM, signal.SIGINT])
# As a service behind a load balancer stops: it serves on for a second while the balancer takes
# it out (tide does when the instance starts shutting down), then lets the calls in flight
# finish. (grpc's stop answers CANCELLED to calls that come after it began: they must not.)
time.sleep(1)
server.stop(1).wait()
'''

# The client: argv is ADDRESS NAME CA_FILE (TLS to ADDRESS, the certificate checked against
# CA_FILE for NAME, which is also the SNI name and :authority). One JSON request a line on
# stdin, one JSON answer a line on stdout (messages and the values of -bin metadata keys in
# base64):
#   {"kind": "unary"|"server_stream"|"client_stream"|"bidi", "method": "/pkg.Service/M",
#    "requests": [...], "metadata": [[k, v]], "timeout": seconds}
#   -> {"code": "OK", "details": ..., "responses": [...], "initial": [[k, v]],
#       "trailing": [[k, v]]}
# bidi sends one message and reads its answer before sending the next; "parallel" makes one
# unary call per request at once (the first failure's code, else OK, and every answer);
# "cancel" starts a unary call without a deadline, waits for its initial metadata (the server
# has it) and cancels it (code CANCELLED, "started" whether the metadata came).
CLIENT = r'''
import base64, json, queue, sys, threading
import grpc

address, name, ca = sys.argv[1:4]
with open(ca, "rb") as f:
    credentials = grpc.ssl_channel_credentials(root_certificates=f.read())
channel = grpc.secure_channel(address, credentials, options=[
    ("grpc.ssl_target_name_override", name), ("grpc.default_authority", name),
    ("grpc.enable_http_proxy", 0), ("grpc.enable_retries", 0)])

def pairs(metadata):
    return [[k, base64.b64encode(v).decode() if isinstance(v, bytes) else v]
            for k, v in metadata or ()]

def bidi(got, method, requests, **kw):
    outgoing = queue.Queue()
    def messages():
        while (m := outgoing.get()) is not None:
            yield m
    call = channel.stream_stream(method)(messages(), **kw)
    try:
        for m in requests:
            outgoing.put(m)
            got.append(next(call))
    finally:
        outgoing.put(None)
    got.extend(call)
    return call

def parallel(got, method, requests, **kw):
    calls = [channel.unary_unary(method).future(m, **kw) for m in requests]
    got.extend(c.result() for c in calls if c.exception() is None)
    failed = [c for c in calls if c.exception() is not None]
    return failed[0] if failed else calls[0]

def cancel(method, request, metadata):
    # (a unary-stream callable: its initial metadata comes on its own, not with the answer;
    # on the wire the call is the same)
    call = channel.unary_stream(method)(request, metadata=metadata)
    waiting = threading.Thread(target=call.initial_metadata, daemon=True)
    waiting.start()
    waiting.join(10)
    call.cancel()
    return {"code": call.code().name, "details": "", "responses": [], "initial": [],
            "trailing": [], "started": not waiting.is_alive()}

def run(r):
    requests = [base64.b64decode(m) for m in r.get("requests", [])]
    metadata = [(k, base64.b64decode(v) if k.endswith("-bin") else v)
                for k, v in r.get("metadata", [])]
    kw = {"metadata": metadata, "timeout": r.get("timeout", 10)}
    if r["kind"] == "cancel":
        return cancel(r["method"], requests[0], metadata)
    got = []  # the messages received, also those before an error
    try:
        if r["kind"] == "unary":
            message, call = channel.unary_unary(r["method"]).with_call(requests[0], **kw)
            got.append(message)
        elif r["kind"] == "server_stream":
            call = channel.unary_stream(r["method"])(requests[0], **kw)
            for message in call:
                got.append(message)
        elif r["kind"] == "client_stream":
            message, call = channel.stream_unary(r["method"]).with_call(iter(requests), **kw)
            got.append(message)
        elif r["kind"] == "bidi":
            call = bidi(got, r["method"], requests, **kw)
        else:
            call = parallel(got, r["method"], requests, **kw)
    except grpc.RpcError as e:
        call = e
    return {"code": call.code().name, "details": call.details() or "",
            "responses": [base64.b64encode(m).decode() for m in got],
            "initial": pairs(call.initial_metadata()), "trailing": pairs(call.trailing_metadata())}

for line in sys.stdin:
    print(json.dumps(run(json.loads(line))), flush=True)
'''


class GrpcClient:
    """The CLIENT above in Debian's python, for one channel to `address`."""

    def __init__(self, address, name, ca_file):
        self.proc = subprocess.Popen([DEBIAN_PYTHON, "-c", CLIENT, address, name, ca_file],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     env=dict(os.environ, GRPC_VERBOSITY="ERROR"))

    def call(self, kind, method, requests=(b"",), metadata=(), timeout=10):
        """The call's answer: code, details, responses (bytes), initial and trailing metadata
        as lists of pairs (values of -bin keys as bytes)."""
        line = json.dumps({"kind": kind, "method": method, "timeout": timeout,
                           "metadata": [[k, base64.b64encode(v).decode() if k.endswith(
                               "-bin") else v] for k, v in metadata],
                           "requests": [base64.b64encode(m).decode() for m in requests]})
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()
        # Bounded: every call has its deadline; the client answers soon after it.
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout + 30)
        if not ready:
            raise AssertionError(f"the gRPC client did not answer {method} in time")
        answer = self.proc.stdout.readline()
        if not answer:
            raise AssertionError(f"the gRPC client ended (exit {self.proc.wait(timeout=10)})")
        out = json.loads(answer)
        out["responses"] = [base64.b64decode(m) for m in out["responses"]]
        for key in ("initial", "trailing"):
            out[key] = [(k, base64.b64decode(v) if k.endswith("-bin") else v)
                        for k, v in out[key]]
        return out

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
        self.proc.stdout.close()


class AwsCli:
    """A TideTestCase mixin: Debian's aws CLI against the test's server."""

    def aws(self, *args):
        """(exit code, JSON output or stderr) of `aws ARGS` with the server's credentials."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        for line in self.tide("credentials", "--data-dir", self.data_dir).stdout.splitlines():
            if line.startswith("export "):
                k, _, v = line[len("export "):].partition("=")
                env[k] = v.strip("'\"")
        env.update(AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="",
                   AWS_CONFIG_FILE=os.path.join(self.tmp, "no-aws-config"),
                   AWS_SHARED_CREDENTIALS_FILE=os.path.join(self.tmp, "no-aws-credentials"))
        p = subprocess.run([DEBIAN_AWS, "--endpoint-url", self.server.endpoint, "--output",
                            "json", *args], capture_output=True, text=True, env=env, timeout=120,
                           stdin=subprocess.DEVNULL)
        if p.returncode != 0:
            return p.returncode, p.stderr
        return 0, json.loads(p.stdout) if p.stdout.strip() else {}

    def aws_ok(self, *args):
        code, out = self.aws(*args)
        self.assertEqual(code, 0, out)
        return out
