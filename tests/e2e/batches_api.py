"""End-to-end tests of the Batch API: the official `openai` SDK's `client.files` and
`client.batches` against the real gateway binary, whose model is served by a counting mock
upstream (below) so that every line's upstream requests are known.

- the SDK round trip: upload, create, retrieve, list, download the output and error files,
  a failed validation (nothing sent upstream), a cancel;
- 10,000 lines complete with the gateway's peak RSS (VmHWM) under 100 MiB;
- SIGKILL mid-batch and a restart: every line completed exactly once (a line in flight at the
  kill is sent at most twice and then marked `retried`);
- two instances on PostgreSQL (`GATEWAY_TEST_DATABASE_URL`) share one batch, and a SIGKILL of
  one is absorbed by the other.

`run_e2e.py` adds these tests to its list (see `tests()`); each starts its own mock and
gateways and stops them at the end.
"""

from __future__ import annotations

import collections
import http.server
import io
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from typing import Callable

TERMINAL = ("completed", "failed", "expired", "cancelled")
MODEL = "batch-model"


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


class CountingUpstream:
    """An OpenAI-compatible chat upstream on 127.0.0.1 that answers at once (or after
    `delay_s`) and counts requests per prompt and per API key."""

    def __init__(self, delay_s: float = 0.0):
        self.by_prompt: collections.Counter[str] = collections.Counter()
        self.by_key: collections.Counter[str] = collections.Counter()
        self.lock = threading.Lock()
        upstream = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))))
                prompt = body["messages"][-1]["content"]
                with upstream.lock:
                    upstream.by_prompt[prompt] += 1
                    upstream.by_key[self.headers.get("authorization", "")] += 1
                if delay_s:
                    time.sleep(delay_s)
                answer = {
                    "id": f"chatcmpl-{uuid.uuid4().hex}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body["model"],
                    "choices": [
                        {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": f"echo {prompt}"}}
                    ],
                    "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
                }
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address) -> None:
                pass  # a gateway killed mid-request resets its connections: expected here

        self.server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def total(self) -> int:
        with self.lock:
            return sum(self.by_prompt.values())

    def stop(self) -> None:
        self.server.shutdown()


def _config(dir_: str, upstream: CountingUpstream, *, database_url: str | None = None, api_key: str = "sk-mock",
            concurrency: int = 16) -> str:
    path = os.path.join(dir_, f"gateway-{uuid.uuid4().hex[:8]}.toml")
    url = database_url or f"sqlite://{dir_}/gateway.db?mode=rwc"
    with open(path, "w") as f:
        f.write(
            f'[server]\ndata_dir = "{dir_}"\n'
            f'[store]\ndatabase_url = "{url}"\n'
            f'[files]\ndir = "{dir_}/files"\n'
            f'[batches]\nconcurrency = {concurrency}\nlease = "2s"\npoll_interval = "50ms"\n'
            f'[providers.up]\nkind = "openai"\nbase_url = "{upstream.base_url}"\napi_key = "{api_key}"\n'
            f'[models.{MODEL}]\nprovider = "up"\nupstream_model = "gpt-mock"\n'
        )
    return path


def _lines(ids: list[str], model: str = MODEL) -> bytes:
    out = io.StringIO()
    for custom_id in ids:
        body = {"model": model, "messages": [{"role": "user", "content": f"line {custom_id}"}]}
        out.write(json.dumps({"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": body}))
        out.write("\n")
    return out.getvalue().encode()


def _wait(client, batch_id: str, until: Callable[[object], bool], timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while True:
        batch = client.batches.retrieve(batch_id)
        if until(batch):
            return batch
        _check(time.monotonic() < deadline, f"batch still {batch.status}: {batch.request_counts}")
        time.sleep(0.05)


def _jsonl(client, file_id: str | None) -> list[dict]:
    if file_id is None:
        return []
    return [json.loads(line) for line in client.files.content(file_id).text.splitlines() if line]


def _submit(client, data: bytes, **kwargs):
    uploaded = client.files.create(file=("input.jsonl", data), purpose="batch")
    _check(uploaded.purpose == "batch" and uploaded.bytes == len(data), f"{uploaded!r}")
    return client.batches.create(
        input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h", **kwargs
    )


def _exactly_once(client, batch, upstream: CountingUpstream, ids: list[str]) -> int:
    """Every line is in the output once; a line reached the upstream once, or twice when it
    was in flight at a kill (then marked retried). Returns how many lines were retried."""
    _check(batch.status == "completed", f"{batch!r}")
    out = _jsonl(client, batch.output_file_id)
    _check(sorted(line["custom_id"] for line in out) == sorted(ids), "each line exactly once in the output")
    _check(batch.error_file_id is None, "no line failed")
    retried = {line["custom_id"] for line in out if line.get("retried")}
    for custom_id in ids:
        sent = upstream.by_prompt[f"line {custom_id}"]
        _check(sent == 1 or (sent == 2 and custom_id in retried), f"{custom_id} sent {sent} times")
    _check(upstream.total() == len(ids) + sum(1 for i in ids if upstream.by_prompt[f"line {i}"] == 2), "count")
    return len(retried)


def tests(gateway_cls, listen_re, demo_key: str) -> list[Callable]:
    def start(ctx, config: str):
        gateway = gateway_cls(
            ctx.gateway_bin, ["--demo", "--listen", "127.0.0.1:0", "--config", config], {"GATEWAY_DEMO_KEY": demo_key}
        )
        return gateway, ctx.openai(gateway.start())

    def test_batch_api_through_the_openai_sdk(ctx) -> None:
        upstream = CountingUpstream()
        dir_ = tempfile.mkdtemp(prefix="gw-batch-")
        gateway = None
        try:
            gateway, client = start(ctx, _config(dir_, upstream))
            ids = [f"ok-{i}" for i in range(20)]
            data = _lines(ids[:10]) + _lines(["unknown"], model="no-such-model") + _lines(ids[10:])
            batch = _submit(client, data, metadata={"run": "e2e"})
            _check(batch.status == "validating" and batch.metadata == {"run": "e2e"}, f"{batch!r}")
            done = _wait(client, batch.id, lambda b: b.status in TERMINAL)
            _check(done.status == "completed", f"{done!r}")
            counts = done.request_counts
            _check((counts.total, counts.completed, counts.failed) == (21, 20, 1), f"{counts!r}")
            out = _jsonl(client, done.output_file_id)
            _check([line["custom_id"] for line in out] == ids, "output in line order")
            for line in out:
                _check(line["response"]["status_code"] == 200, f"{line!r}")
                text = line["response"]["body"]["choices"][0]["message"]["content"]
                _check(text == f"echo line {line['custom_id']}", f"{text!r}")
            errors = _jsonl(client, done.error_file_id)
            _check([(e["custom_id"], e["response"]["status_code"]) for e in errors] == [("unknown", 404)], f"{errors!r}")
            _check(all(upstream.by_prompt[f"line {i}"] == 1 for i in ids), "each line sent once")
            _check(upstream.by_prompt["line unknown"] == 0, "an unknown model is not sent")
            listed = client.batches.list(limit=10)
            _check(any(b.id == batch.id for b in listed.data), f"{listed!r}")

            # A bad input fails the batch naming its lines; nothing is sent.
            before = upstream.total()
            bad = _lines(["a"]) + b"{not json\n" + _lines(["a"])
            failed = _wait(client, _submit(client, bad).id, lambda b: b.status in TERMINAL)
            _check(failed.status == "failed", f"{failed!r}")
            lines = [(e.line, e.code) for e in failed.errors.data]
            _check(lines == [(2, "invalid_json_line"), (3, "duplicate_custom_id")], f"{lines!r}")
            _check(upstream.total() == before, "nothing sent for a failed batch")

            # Cancel: the lines not yet run never run.
            many = _submit(client, _lines([f"c-{i}" for i in range(2000)]))
            cancelling = client.batches.cancel(many.id)
            _check(cancelling.status in ("cancelling", "cancelled"), f"{cancelling!r}")
            cancelled = _wait(client, many.id, lambda b: b.status in TERMINAL)
            _check(cancelled.status == "cancelled", f"{cancelled!r}")
            _check(cancelled.request_counts.completed < 2000, f"{cancelled.request_counts!r}")
        finally:
            if gateway is not None:
                gateway.stop()
            upstream.stop()
            shutil.rmtree(dir_, ignore_errors=True)

    def test_batch_of_10000_lines_within_100_mib(ctx) -> None:
        upstream = CountingUpstream()
        dir_ = tempfile.mkdtemp(prefix="gw-batch-")
        gateway = None
        try:
            gateway, client = start(ctx, _config(dir_, upstream, concurrency=32))
            ids = [f"n-{i}" for i in range(10_000)]
            started = time.monotonic()
            batch = _wait(client, _submit(client, _lines(ids)).id, lambda b: b.status in TERMINAL, timeout=300)
            elapsed = time.monotonic() - started
            retried = _exactly_once(client, batch, upstream, ids)
            _check(retried == 0, f"{retried} lines retried without a crash")
            with open(f"/proc/{gateway.proc.pid}/status") as status:
                hwm_kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
            print(f"e2e: 10,000-line batch in {elapsed:.1f} s, gateway peak RSS (VmHWM) {hwm_kib / 1024:.1f} MiB", flush=True)
            _check(hwm_kib < 100 * 1024, f"peak RSS {hwm_kib} KiB")
        finally:
            if gateway is not None:
                gateway.stop()
            upstream.stop()
            shutil.rmtree(dir_, ignore_errors=True)

    def test_batch_survives_sigkill_and_restart(ctx) -> None:
        upstream = CountingUpstream(delay_s=0.005)
        dir_ = tempfile.mkdtemp(prefix="gw-batch-")
        gateway = None
        try:
            config = _config(dir_, upstream)
            gateway, client = start(ctx, config)
            ids = [f"k-{i}" for i in range(2000)]
            batch = _submit(client, _lines(ids))
            _wait(client, batch.id, lambda b: b.request_counts.completed >= 300)
            gateway.proc.send_signal(signal.SIGKILL)
            gateway.proc.wait()
            at_kill = upstream.total()
            _check(at_kill < len(ids), f"the batch was done before the kill ({at_kill})")
            gateway, client = start(ctx, config)
            done = _wait(client, batch.id, lambda b: b.status in TERMINAL)
            retried = _exactly_once(client, done, upstream, ids)
            print(f"e2e: killed after {at_kill} upstream requests; {retried} lines retried after the restart", flush=True)
        finally:
            if gateway is not None and gateway.proc is not None and gateway.proc.poll() is None:
                gateway.stop()
            upstream.stop()
            shutil.rmtree(dir_, ignore_errors=True)

    def test_two_instances_on_postgres_share_a_batch(ctx) -> None:
        url = os.environ.get("GATEWAY_TEST_DATABASE_URL")
        if not url:
            _check(os.environ.get("GATEWAY_REQUIRE_SERVICES") != "1", "GATEWAY_TEST_DATABASE_URL is not set")
            print("e2e: skipped (GATEWAY_TEST_DATABASE_URL not set)", flush=True)
            return
        if shutil.which("psql") is None:
            _check(os.environ.get("GATEWAY_REQUIRE_SERVICES") != "1", "psql is not installed")
            print("e2e: skipped (psql, to create the test's schema, is not installed)", flush=True)
            return
        schema = f"gw_e2e_{uuid.uuid4().hex[:12]}"
        subprocess.run(["psql", url, "-q", "-c", f"CREATE SCHEMA {schema}"], check=True)
        sep = "&" if "?" in url else "?"
        db = f"{url}{sep}options=-c%20search_path%3D{schema}"
        upstream = CountingUpstream(delay_s=0.005)
        dir_ = tempfile.mkdtemp(prefix="gw-batch-")
        a = b = None
        try:
            a, client_a = start(ctx, _config(dir_, upstream, database_url=db, api_key="sk-a", concurrency=8))
            b, client_b = start(ctx, _config(dir_, upstream, database_url=db, api_key="sk-b", concurrency=8))
            ids = [f"p-{i}" for i in range(1000)]
            batch = _submit(client_a, _lines(ids))
            _wait(client_b, batch.id, lambda x: x.request_counts.completed >= 200)
            _check(upstream.by_key["Bearer sk-a"] > 0 and upstream.by_key["Bearer sk-b"] > 0, f"{upstream.by_key!r}")
            a.proc.send_signal(signal.SIGKILL)
            a.proc.wait()
            by_a = upstream.by_key["Bearer sk-a"]
            done = _wait(client_b, batch.id, lambda x: x.status in TERMINAL)
            _check(upstream.by_key["Bearer sk-a"] == by_a, "a killed instance sent nothing more")
            retried = _exactly_once(client_b, done, upstream, ids)
            print(
                f"e2e: instance A sent {by_a}, B {upstream.by_key['Bearer sk-b']} lines; {retried} retried after A's kill",
                flush=True,
            )
        finally:
            for g in (a, b):
                if g is not None and g.proc is not None and g.proc.poll() is None:
                    g.stop()
            upstream.stop()
            shutil.rmtree(dir_, ignore_errors=True)
            subprocess.run(["psql", url, "-q", "-c", f"DROP SCHEMA {schema} CASCADE"], check=False)

    return [
        test_batch_api_through_the_openai_sdk,
        test_batch_of_10000_lines_within_100_mib,
        test_batch_survives_sigkill_and_restart,
        test_two_instances_on_postgres_share_a_batch,
    ]
