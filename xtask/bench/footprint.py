"""The edge profile's and the Lambda function's footprint (docs/benchmarks.md#edge-profile).

Usage: footprint.py BIN_DIR [RUNS]

BIN_DIR holds release builds of `llm-gateway`, `mock-upstream` and `gateway-lambda`
(`cargo build --release -p llm-gateway -p gateway-testkit -p gateway-lambda`; the directory is
`target/release`). RUNS (default 5) is the number of starts of each; figures are printed as
median and range.

Edge: a signing key, one tenant and one API key made with `llm-gateway edge keygen / new-key /
sign`, the tenant limits of docs/deployment.md#edge-profile (`rpm = 600, tpm = 200000,
budget_usd_daily = 50.0`) and its configuration (`[store.signed_file]`, `[cache] enabled =
true`, in-process limits) with one OpenAI-kind provider (mock-upstream on loopback) serving the
public model `bench` as `gpt-4o-mini`; nothing else is set, so every other setting is its
default. It reads VmRSS, VmHWM
and Threads from /proc/PID/status once `/health` answers (plus one second), and again after
200 chat calls and 20 streamed ones on one keep-alive connection (plus one second).

Lambda: a local emulation of the Lambda Runtime API (what AWS's runtime interface emulator
serves: `GET /2018-06-01/runtime/invocation/next` hands out an event,
`POST /2018-06-01/runtime/invocation/{id}/response` takes the answer). The function runs with
the same edge configuration (`GATEWAY_CONFIG`); the event is an HTTP API (payload 2.0) chat
completion. Cold start is the time from spawning the process to the first invocation's
answer arriving at the emulator; the memory is read while the function waits for its next
event. A second (warm) invocation is timed too.

Only loopback addresses are used; every process started is ended."""
import http.client, http.server, json, os, queue, signal, socket, statistics, subprocess, sys
import tempfile, threading, time

bins = os.path.abspath(sys.argv[1])
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
PEPPER = "footprint-pepper-0123456789abcdef"
# The upstream model decides the token counter: `gpt-4o-mini` loads tiktoken's o200k tables,
# a name without a known tokenizer (FOOTPRINT_UPSTREAM_MODEL=bench-model) counts bytes.
UPSTREAM_MODEL = os.environ.get("FOOTPRINT_UPSTREAM_MODEL", "gpt-4o-mini")
# FOOTPRINT_TOKEN_COUNT=estimate|tokenizer adds `[limits] token_count` and a token limit in the
# configuration itself (`[limits.key] tpm`), which loads the tokenizer's tables at start when
# "tokenizer" is chosen (the signed file's limits alone load them on the first call).
TOKEN_COUNT = os.environ.get("FOOTPRINT_TOKEN_COUNT")
# Seconds between /health answering and the idle reading (a debug build loads the tokenizer's
# tables far slower than a release build).
IDLE_WAIT = float(os.environ.get("FOOTPRINT_IDLE_WAIT", "1"))
GATEWAY = os.path.join(bins, "llm-gateway")
MOCK = os.path.join(bins, "mock-upstream")
LAMBDA = os.path.join(bins, "gateway-lambda")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def edge_cmd(*args):
    out = subprocess.run([GATEWAY, "edge", *args], env=dict(os.environ, GATEWAY_KEY_PEPPER=PEPPER),
                         capture_output=True, text=True, check=True)
    return out.stdout


def status(pid):
    fields = {}
    for line in open(f"/proc/{pid}/status"):
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "Threads"):
            fields[key] = int(value.split()[0])
    return fields


def mib(kib):
    return kib / 1024


def summary(values, fmt="{:.1f}"):
    values = sorted(values)
    med = statistics.median(values)
    return f"{fmt.format(med)} ({fmt.format(values[0])}-{fmt.format(values[-1])})"


def sizes(path):
    stripped = tempfile.mktemp(prefix="stripped-")
    subprocess.run(["strip", "-o", stripped, path], check=True)
    size = os.path.getsize(path), os.path.getsize(stripped)
    os.unlink(stripped)
    return size


scratch = tempfile.mkdtemp(prefix="footprint-")
pem = os.path.join(scratch, "signing.pem")
public_key = next(l.split("): ")[1] for l in edge_cmd("keygen", "--out", pem).splitlines() if "): " in l)
issued = edge_cmd("new-key", "--tenant", "bench", "--id", "bench-key")
secret = issued.splitlines()[0].rsplit(" ", 1)[1]
entry = "\n".join(l for l in issued.splitlines() if not l.startswith("#"))
open(f"{scratch}/tenants.toml", "w").write(
    f"serial = 1\n\n[[tenants]]\nid = \"bench\"\nlimits = {{ rpm = 600, tpm = 200000, budget_usd_daily = 50.0 }}\n\n{entry}\n")
edge_cmd("sign", "--key", pem, "--in", f"{scratch}/tenants.toml", "--out", f"{scratch}/tenants.signed.json")

mock_port = free_port()
mock = subprocess.Popen([MOCK, "--listen", f"127.0.0.1:{mock_port}"], stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL)
CONFIG = f"""[auth]
pepper = "{PEPPER}"

[store.signed_file]
path = "{scratch}/tenants.signed.json"
public_key = "{public_key}"

[cache]
enabled = true

[logging]
level = "warn"

[providers.mock]
kind = "openai"
base_url = "http://127.0.0.1:{mock_port}/v1"
api_key = "footprint-upstream-key"

[models.bench]
provider = "mock"
upstream_model = "{UPSTREAM_MODEL}"
"""
if TOKEN_COUNT:
    CONFIG += f"""
[limits]
token_count = "{TOKEN_COUNT}"

[limits.key]
tpm = 1000000
"""
open(f"{scratch}/edge.toml", "w").write(CONFIG)
CHAT = {"model": "bench", "messages": [{"role": "user", "content": "Say hello to the benchmark."}],
        "max_tokens": 32}
HEADERS = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}


def edge_run():
    port = free_port()
    started = time.monotonic()
    gw = subprocess.Popen([GATEWAY, "-c", f"{scratch}/edge.toml", "--listen", f"127.0.0.1:{port}"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = started + 60
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                c.request("GET", "/health")
                if c.getresponse().read() is not None:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        ready = time.monotonic() - started
        time.sleep(IDLE_WAIT)
        idle = status(gw.pid)
        # A fresh connection: a long idle wait outlasts the server's keep-alive.
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for i in range(220):
            body = dict(CHAT, stream=i >= 200)
            # A distinct prompt per call: cache misses, each call goes upstream.
            body["messages"] = [{"role": "user", "content": f"Say hello to the benchmark, call {i}."}]
            c.request("POST", "/v1/chat/completions", json.dumps(body), HEADERS)
            r = c.getresponse()
            data = r.read()
            assert r.status == 200, (r.status, data)
        time.sleep(1)
        after = status(gw.pid)
        return ready, idle, after
    finally:
        gw.send_signal(signal.SIGTERM)
        gw.wait(30)


class RuntimeApi(http.server.BaseHTTPRequestHandler):
    """The two calls of the Lambda Runtime API a function makes per invocation (and the error
    reports, recorded)."""
    protocol_version = "HTTP/1.1"
    events = None      # queue of (request id, event body)
    answers = None     # queue of (request id, answer body, time)

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path != "/2018-06-01/runtime/invocation/next":
            self.send_error(404)
            return
        request_id, event = self.events.get()
        body = event.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Lambda-Runtime-Aws-Request-Id", request_id)
        self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 120_000))
        self.send_header("Lambda-Runtime-Invoked-Function-Arn",
                         "arn:aws:lambda:eu-west-1:123456789012:function:llm-gateway")
        self.send_header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length) if length else self.read_chunked()
        now = time.monotonic()
        parts = self.path.split("/")
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()
        if len(parts) == 6 and parts[3] == "invocation":
            self.answers.put((parts[4], parts[5], body, now))
        else:
            self.answers.put(("init", parts[-1], body, now))

    def read_chunked(self):
        data = b""
        while True:
            size = int(self.rfile.readline().strip(), 16)
            if size == 0:
                self.rfile.readline()
                return data
            data += self.rfile.read(size)
            self.rfile.readline()


def event(request_id):
    body = dict(CHAT, messages=[{"role": "user", "content": f"Say hello to the benchmark, {request_id}."}])
    return json.dumps({
        "version": "2.0", "routeKey": "$default", "rawPath": "/v1/chat/completions", "rawQueryString": "",
        "headers": {"content-type": "application/json", "authorization": f"Bearer {secret}",
                    "host": "abc.lambda-url.eu-west-1.on.aws"},
        "requestContext": {
            "accountId": "123456789012", "apiId": "abc", "domainName": "abc.lambda-url.eu-west-1.on.aws",
            "domainPrefix": "abc",
            "http": {"method": "POST", "path": "/v1/chat/completions", "protocol": "HTTP/1.1",
                     "sourceIp": "127.0.0.1", "userAgent": "footprint"},
            "requestId": request_id, "routeKey": "$default", "stage": "$default",
            "time": "06/Dec/2026:12:00:00 +0000", "timeEpoch": 1796558400000},
        "body": json.dumps(body), "isBase64Encoded": False})


def answered(answers, request_id):
    rid, kind, body, at = answers.get(timeout=60)
    assert (rid, kind) == (request_id, "response"), (rid, kind, body[:300])
    status_code = json.loads(body).get("statusCode")
    assert status_code == 200, body[:300]
    return at


def lambda_run():
    handler = type("Api", (RuntimeApi,), {"events": queue.Queue(), "answers": queue.Queue()})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    handler.events.put(("req-1", event("req-1")))
    env = dict(os.environ, GATEWAY_CONFIG=f"{scratch}/edge.toml",
               AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{server.server_address[1]}",
               AWS_LAMBDA_FUNCTION_NAME="llm-gateway", AWS_LAMBDA_FUNCTION_MEMORY_SIZE="256",
               AWS_LAMBDA_FUNCTION_VERSION="$LATEST", AWS_LAMBDA_LOG_GROUP_NAME="/aws/lambda/llm-gateway",
               AWS_LAMBDA_LOG_STREAM_NAME="footprint")
    started = time.monotonic()
    fn = subprocess.Popen([LAMBDA], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        cold = answered(handler.answers, "req-1") - started
        time.sleep(0.5)
        after_first = status(fn.pid)
        sent = time.monotonic()
        handler.events.put(("req-2", event("req-2")))
        warm = answered(handler.answers, "req-2") - sent
        time.sleep(0.5)
        return cold, warm, after_first, status(fn.pid)
    finally:
        fn.send_signal(signal.SIGTERM)
        fn.wait(30)
        server.shutdown()


try:
    print(f"host: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start; {runs} runs each")
    for name in ("llm-gateway", "gateway-lambda"):
        full, stripped = sizes(os.path.join(bins, name))
        print(f"{name}: {full / 2**20:.1f} MiB as built, {stripped / 2**20:.1f} MiB stripped")
    edge = [edge_run() for _ in range(runs)]
    print(f"edge: ready (spawn to /health answered) {summary([r[0] * 1000 for r in edge], '{:.0f}')} ms")
    print(f"edge idle after start: VmRSS {summary([mib(r[1]['VmRSS']) for r in edge])} MiB, "
          f"VmHWM {summary([mib(r[1]['VmHWM']) for r in edge])} MiB, "
          f"RssAnon {summary([mib(r[1]['RssAnon']) for r in edge])} MiB, "
          f"threads {summary([r[1]['Threads'] for r in edge], '{:.0f}')}")
    print(f"edge idle after 220 calls: VmRSS {summary([mib(r[2]['VmRSS']) for r in edge])} MiB, "
          f"VmHWM {summary([mib(r[2]['VmHWM']) for r in edge])} MiB, "
          f"RssAnon {summary([mib(r[2]['RssAnon']) for r in edge])} MiB, "
          f"threads {summary([r[2]['Threads'] for r in edge], '{:.0f}')}")
    lam = [lambda_run() for _ in range(runs)]
    print(f"lambda: cold start (spawn to first answer) {summary([r[0] * 1000 for r in lam], '{:.0f}')} ms, "
          f"warm invocation {summary([r[1] * 1000 for r in lam], '{:.1f}')} ms")
    print(f"lambda after the first invocation: VmRSS {summary([mib(r[2]['VmRSS']) for r in lam])} MiB, "
          f"VmHWM {summary([mib(r[2]['VmHWM']) for r in lam])} MiB, "
          f"threads {summary([r[2]['Threads'] for r in lam], '{:.0f}')}")
    print(f"lambda after the second: VmRSS {summary([mib(r[3]['VmRSS']) for r in lam])} MiB, "
          f"VmHWM {summary([mib(r[3]['VmHWM']) for r in lam])} MiB")
finally:
    mock.terminate()
    mock.wait(30)
