#!/usr/bin/env python3
"""End-to-end tests: the real `llm-gateway` binary driven by the official SDKs.

Run through `cargo xtask test` (which builds the binaries and prepares a venv with
`openai` and `anthropic`), or by hand:

    LLM_GATEWAY_BIN=target/debug/llm-gateway python tests/e2e/run_e2e.py [-k NAME]

Each test is a plain function taking the `Context` and raising on failure; add one by
writing a `test_*` function and listing it in TESTS. Only stdlib + the SDKs are used.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import signal
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Callable

DEMO_KEY = "sk-gw-DemoKeyForEndToEndTests0123456789abcdefghij"
LISTEN_RE = re.compile(r"listening on (http://[0-9.:]+)")
STARTUP_TIMEOUT_S = 60.0
SHUTDOWN_TIMEOUT_S = 10.0
TAIL_LINES = 60


class Gateway:
    """A running `llm-gateway` process; keeps the tail of its stdout and stderr."""

    def __init__(self, binary: str, args: list[str], env: dict[str, str]):
        self.binary = binary
        self.args = args
        self.env = {**os.environ, **env}
        self.proc: subprocess.Popen[str] | None = None
        self.base_url: str | None = None
        self.stdout_tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
        self._listening = threading.Event()

    def start(self) -> str:
        cmd = [self.binary, *self.args]
        print(f"e2e: starting {' '.join(cmd)}", flush=True)
        self.proc = subprocess.Popen(
            cmd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
        )
        threading.Thread(target=self._pump_stdout, daemon=True).start()
        threading.Thread(target=self._pump, args=(self.proc.stderr, self.stderr_tail), daemon=True).start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._listening.wait(0.1):
                assert self.base_url is not None
                print(f"e2e: gateway listening on {self.base_url}", flush=True)
                return self.base_url
            if self.proc.poll() is not None:
                raise RuntimeError(f"gateway exited with {self.proc.returncode} before listening")
        raise RuntimeError(f"gateway printed no 'listening on http://...' line within {STARTUP_TIMEOUT_S:.0f} s")

    def _pump_stdout(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self.stdout_tail.append(line.rstrip("\n"))
            if not self._listening.is_set():
                match = LISTEN_RE.search(line)
                if match:
                    self.base_url = match.group(1)
                    self._listening.set()

    @staticmethod
    def _pump(stream, tail: collections.deque[str]) -> None:
        for line in stream:
            tail.append(line.rstrip("\n"))

    def stop(self) -> int | None:
        """SIGTERM, wait up to SHUTDOWN_TIMEOUT_S; SIGKILL if it hangs. Returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=SHUTDOWN_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError(f"gateway did not exit within {SHUTDOWN_TIMEOUT_S:.0f} s of SIGTERM")
        return self.proc.returncode

    def print_tails(self) -> None:
        for name, tail in (("stdout", self.stdout_tail), ("stderr", self.stderr_tail)):
            print(f"---- gateway {name} (last {len(tail)} lines) ----", file=sys.stderr)
            for line in tail:
                print(line, file=sys.stderr)
        print("---- end of gateway output ----", file=sys.stderr, flush=True)


@dataclass
class Context:
    """What a test gets: the gateway's base URL and ready-made SDK clients."""

    base_url: str
    api_key: str
    mock_upstream_bin: str | None
    gateway_bin: str

    def openai(self, base_url: str | None = None):
        import openai

        return openai.OpenAI(base_url=f"{base_url or self.base_url}/v1", api_key=self.api_key, max_retries=0, timeout=30.0)

    def anthropic(self):
        import anthropic

        return anthropic.Anthropic(base_url=self.base_url, api_key=self.api_key, max_retries=0, timeout=30.0)


def check(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def expect_error(exc_type: type[BaseException], fn: Callable[[], object]) -> BaseException:
    try:
        result = fn()
    except exc_type as err:
        return err
    except Exception as err:  # noqa: BLE001 - report what came instead
        raise AssertionError(f"expected {exc_type.__name__}, got {type(err).__name__}: {err}") from err
    raise AssertionError(f"expected {exc_type.__name__}, got a result: {result!r}")


def eventually(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Whether `condition` held within `timeout` seconds, polled every 20 ms."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def metric(base_url: str, series: str) -> float:
    """The value of `series` on the gateway's `/metrics` (0 when absent)."""
    import urllib.request

    with urllib.request.urlopen(f"{base_url}/metrics", timeout=10) as reply:
        text = reply.read().decode()
    for line in text.splitlines():
        name, _, value = line.rpartition(" ")
        if name == series:
            return float(value)
    return 0.0


HELLO = [{"role": "user", "content": "Hello"}]


# ---- tests -----------------------------------------------------------------------------


def test_openai_chat_non_streaming(ctx: Context) -> None:
    resp = ctx.openai().chat.completions.create(model="demo", messages=HELLO)
    content = resp.choices[0].message.content
    check(isinstance(content, str) and content != "", f"empty content: {resp!r}")
    check(resp.usage is not None and resp.usage.total_tokens > 0, f"no usage: {resp.usage!r}")


def test_openai_chat_streaming_matches_non_streaming(ctx: Context) -> None:
    client = ctx.openai()
    prompt = [{"role": "user", "content": "Tell me a short story about a gateway."}]
    # A non-zero temperature keeps the response cache out of this test (it has its own).
    expected = client.chat.completions.create(model="demo", messages=prompt, temperature=0.5).choices[0].message.content
    pieces: list[str] = []
    for chunk in client.chat.completions.create(model="demo", messages=prompt, stream=True, temperature=0.5):
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
    check(len(pieces) > 1, f"expected several content chunks, got {len(pieces)}: {pieces!r}")
    joined = "".join(pieces)
    check(joined == expected, f"streamed text differs from non-streamed:\n  stream: {joined!r}\n  plain:  {expected!r}")


def test_openai_unknown_model_is_404(ctx: Context) -> None:
    import openai

    err = expect_error(
        openai.NotFoundError,
        lambda: ctx.openai().chat.completions.create(model="no-such-model", messages=HELLO),
    )
    check(getattr(err, "status_code", None) == 404, f"status {getattr(err, 'status_code', None)}")
    check("no-such-model" in str(err), f"message does not name the model: {err}")


def test_openai_empty_messages_is_400(ctx: Context) -> None:
    import openai

    err = expect_error(
        openai.BadRequestError,
        lambda: ctx.openai().chat.completions.create(model="demo", messages=[]),
    )
    check(getattr(err, "status_code", None) == 400, f"status {getattr(err, 'status_code', None)}")


def test_cached_answer_replayed_to_streaming_sdk(ctx: Context) -> None:
    client = ctx.openai()
    prompt = [{"role": "user", "content": "What is the boiling point of water at sea level?"}]
    first = client.chat.completions.with_raw_response.create(model="demo", messages=prompt, temperature=0)
    check(first.headers.get("x-gateway-cache") == "miss", f"first call: {first.headers.get('x-gateway-cache')!r}")
    expected = first.parse().choices[0].message.content
    # The cache fill is written in the background: wait until the cache counts it.
    stored = eventually(lambda: metric(ctx.base_url, "gateway_cache_stores_total") >= 1)
    check(stored, "the cache fill was never written")
    raw = client.chat.completions.with_raw_response.create(model="demo", messages=prompt, temperature=0, stream=True)
    check(raw.headers.get("x-gateway-cache") == "hit", f"second call: {raw.headers.get('x-gateway-cache')!r}")
    chunks = list(raw.parse())
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    check(text == expected, f"replayed {text!r} != {expected!r}")
    check(chunks[-1].choices[0].finish_reason == "stop", f"last chunk {chunks[-1]!r}")


def test_anthropic_sdk_through_openai_upstream(ctx: Context) -> None:
    client = ctx.anthropic()
    msg = client.messages.create(model="demo", max_tokens=100, messages=[{"role": "user", "content": "Hello Claude"}])
    text = "".join(block.text for block in msg.content if block.type == "text")
    check("Hello Claude" in text, f"unexpected answer: {msg!r}")
    check(msg.stop_reason == "end_turn", f"stop_reason {msg.stop_reason!r}")
    check(msg.usage.output_tokens > 0, f"usage {msg.usage!r}")
    with client.messages.stream(
        model="demo", max_tokens=100, messages=[{"role": "user", "content": "Hello Claude"}]
    ) as stream:
        streamed = "".join(stream.text_stream)
        final = stream.get_final_message()
    check(streamed == text, f"streamed {streamed!r} != {text!r}")
    check(final.stop_reason == "end_turn", f"final stop_reason {final.stop_reason!r}")


def test_anthropic_sdk_error_shape(ctx: Context) -> None:
    import anthropic

    err = expect_error(
        anthropic.NotFoundError,
        lambda: ctx.anthropic().messages.create(model="nope", max_tokens=10, messages=HELLO),
    )
    check("nope" in str(err), f"message does not name the model: {err}")


def test_query_api(ctx: Context) -> None:
    import json
    import urllib.request

    req = urllib.request.Request(
        f"{ctx.base_url}/query",
        data=json.dumps({"prompt": "Hello query"}).encode(),
        headers={"content-type": "application/json", "authorization": f"Bearer {ctx.api_key}"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        body = json.load(resp)
    check("Hello query" in body["response"], f"{body!r}")
    check(body["provider"] == "demo" and body["cascade_path"] == ["demo"], f"{body!r}")
    check(body["usage"]["total_tokens"] > 0 and body["latency_ms"] >= 0, f"{body!r}")


def test_openai_sdk_through_anthropic_upstream(ctx: Context) -> None:
    """A second gateway whose model is served by an Anthropic-format mock."""
    import tempfile

    check(ctx.mock_upstream_bin is not None, "MOCK_UPSTREAM_BIN is not set")
    mock = subprocess.Popen(
        [ctx.mock_upstream_bin, "--vendor", "anthropic"], stdout=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL
    )
    gateway = None
    try:
        assert mock.stdout is not None
        match = LISTEN_RE.search(mock.stdout.readline())
        check(match is not None, "mock-upstream printed no address")
        with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as cfg:
            cfg.write(
                f'[providers.claude]\nkind = "anthropic"\nbase_url = "{match.group(1)}"\napi_key = "sk-ant-mock"\n'
                '[models.claude-test]\nprovider = "claude"\nupstream_model = "claude-sonnet-4-5"\n'
            )
        gateway = Gateway(
            ctx.gateway_bin, ["--demo", "--listen", "127.0.0.1:0", "--config", cfg.name], {"GATEWAY_DEMO_KEY": DEMO_KEY}
        )
        url = gateway.start()
        client = ctx.openai(url)
        resp = client.chat.completions.create(model="claude-test", messages=[{"role": "user", "content": "Hi there"}])
        check("Hi there" in (resp.choices[0].message.content or ""), f"{resp!r}")
        check(resp.choices[0].finish_reason == "stop", f"{resp.choices[0].finish_reason!r}")
        pieces = [
            c.choices[0].delta.content or ""
            for c in client.chat.completions.create(
                model="claude-test", stream=True, messages=[{"role": "user", "content": "Hi there"}]
            )
            if c.choices
        ]
        check("".join(pieces) == resp.choices[0].message.content, f"streamed {pieces!r}")
    finally:
        if gateway is not None:
            gateway.stop()
        mock.terminate()
        mock.wait(timeout=10)


TESTS: list[Callable[[Context], None]] = [
    test_openai_chat_non_streaming,
    test_openai_chat_streaming_matches_non_streaming,
    test_openai_unknown_model_is_404,
    test_openai_empty_messages_is_400,
    test_cached_answer_replayed_to_streaming_sdk,
    test_anthropic_sdk_through_openai_upstream,
    test_anthropic_sdk_error_shape,
    test_query_api,
    test_openai_sdk_through_anthropic_upstream,
]

# The Responses API against each upstream kind lives in its own file.
import responses_api  # noqa: E402 - the helpers it is given are defined above

TESTS += responses_api.tests(Gateway, LISTEN_RE, DEMO_KEY)

# The Batch API (durability, memory, several instances) lives in its own file too.
import batches_api  # noqa: E402

TESTS += batches_api.tests(Gateway, LISTEN_RE, DEMO_KEY)


# ---- runner ----------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-k", dest="keyword", help="run only tests whose name contains this")
    opts = parser.parse_args()
    binary = os.environ.get("LLM_GATEWAY_BIN", "target/debug/llm-gateway")
    if not os.path.isfile(binary):
        print(f"e2e: gateway binary not found: {binary} (set LLM_GATEWAY_BIN)", file=sys.stderr)
        return 2
    tests = [t for t in TESTS if not opts.keyword or opts.keyword in t.__name__]

    gateway = Gateway(
        binary,
        ["--demo", "--listen", "127.0.0.1:0"],
        # The response cache is on for this gateway (an environment override of [cache]).
        {"GATEWAY_DEMO_KEY": DEMO_KEY, "GATEWAY__CACHE__ENABLED": "true"},
    )
    passed, failed = 0, []
    try:
        base_url = gateway.start()
        ctx = Context(
            base_url=base_url,
            api_key=DEMO_KEY,
            mock_upstream_bin=os.environ.get("MOCK_UPSTREAM_BIN"),
            gateway_bin=binary,
        )
        for test in tests:
            started = time.monotonic()
            try:
                test(ctx)
            except Exception:  # noqa: BLE001 - every failure is reported, the run goes on
                failed.append(test.__name__)
                print(f"FAIL {test.__name__}\n{traceback.format_exc()}", flush=True)
            else:
                passed += 1
                print(f"ok   {test.__name__} ({(time.monotonic() - started) * 1000:.0f} ms)", flush=True)
        code = gateway.stop()
        if code != 0:
            failed.append(f"gateway exit code after SIGTERM was {code}, expected 0")
    except Exception:  # noqa: BLE001 - startup or shutdown failure
        failed.append("gateway lifecycle")
        print(f"FAIL gateway lifecycle\n{traceback.format_exc()}", flush=True)
    finally:
        if gateway.proc is not None and gateway.proc.poll() is None:
            gateway.proc.kill()
            gateway.proc.wait()
    if failed:
        gateway.print_tails()
        print("e2e: failures: " + ", ".join(failed))
    print(f"e2e: {passed} passed, {len(failed)} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
