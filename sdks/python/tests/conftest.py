"""Fixtures: the real `llm-gateway` binary, started once per session on port 0.

- ``gateway``: ``--demo`` with the admin API on (a bootstrap token) and the response cache on.
- ``backup_gateway``: ``--demo`` over a SQLite file with ``[backup]`` on (a fresh key,
  archives in a temporary directory), for the backups resource.
- ``encryption_gateway``: ``--demo`` with ``[encryption]`` on (a fresh KEK), for the
  encryption resource.
- ``idle_async_gateway``: ``--demo`` whose async worker is off (``[async] worker = false``):
  its async jobs stay ``pending``, for bounded waits and cancellation.
- ``upstream_gateway``: a second gateway whose models are served by ``mock-upstream``
  processes (an OpenAI-format and an Anthropic-format one), with a fallback model (two
  attempts) and a model whose upstream always answers 429 with ``retry-after: 1``.

The binaries come from ``LLM_GATEWAY_BIN`` and ``MOCK_UPSTREAM_BIN`` (``cargo xtask test``
sets both; by hand, build them with ``cargo build -p llm-gateway -p gateway-testkit --bins``).
The process handling is the e2e suite's (``tests/e2e/run_e2e.py``).
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, List, Optional

import pytest

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
sys.path.insert(0, str(REPO / "sdks" / "python" / "src"))

from run_e2e import DEMO_KEY, LISTEN_RE, Gateway  # noqa: E402

from llm_gateway import Gateway as Client  # noqa: E402

ADMIN_TOKEN = "sdk-test-admin-token-0123456789abcdef"


def _binary(env: str, name: str) -> str:
    target = os.environ.get("CARGO_TARGET_DIR", str(REPO / "target"))
    path = os.environ.get(env) or os.path.join(target, "debug", name)
    if not os.path.isfile(path):
        pytest.exit(f"{name} not found at {path}: set {env} or run `cargo xtask test`", returncode=2)
    return path


def gateway_binary() -> str:
    return _binary("LLM_GATEWAY_BIN", "llm-gateway")


@dataclass
class Running:
    url: str
    admin_token: str = ADMIN_TOKEN
    demo_key: str = DEMO_KEY


def _start(args: List[str], env: dict) -> "tuple[Gateway, str]":
    proc = Gateway(_binary("LLM_GATEWAY_BIN", "llm-gateway"), args, env)
    try:
        url = proc.start()
    except Exception:
        proc.print_tails()
        raise
    return proc, url


@pytest.fixture(scope="session")
def gateway() -> Iterator[Running]:
    proc, url = _start(
        ["--demo", "--listen", "127.0.0.1:0"],
        {
            "GATEWAY_DEMO_KEY": DEMO_KEY,
            "GATEWAY__ADMIN__TOKEN": ADMIN_TOKEN,
            "GATEWAY__CACHE__ENABLED": "true",
        },
    )
    try:
        yield Running(url)
    finally:
        proc.stop()


WEBHOOK_CONFIG = """
[admin]
token = "{token}"

[webhooks]
allow_private = ["127.0.0.1/32"]
allow_http = true
poll_interval = "50ms"
"""


@pytest.fixture(scope="session")
def webhook_gateway() -> Iterator[Running]:
    """``--demo`` whose webhooks may call receivers on 127.0.0.1 over http (the tests'),
    looking for due deliveries every 50 ms."""
    cfg = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
    proc: Optional[Gateway] = None
    try:
        with cfg:
            cfg.write(WEBHOOK_CONFIG.format(token=ADMIN_TOKEN))
        proc, url = _start(["--demo", "--listen", "127.0.0.1:0", "--config", cfg.name], {"GATEWAY_DEMO_KEY": DEMO_KEY})
        yield Running(url)
    finally:
        if proc is not None:
            proc.stop()
        os.unlink(cfg.name)


BACKUP_CONFIG = """
[admin]
token = "{token}"

# A file store: the in-memory store of a bare --demo cannot be backed up (VACUUM INTO fails).
[store]
database_url = "sqlite://{root}/gateway.db?mode=rwc"

[backup]
key = "{key}"
dir = "{dir}"
"""


@dataclass
class BackupRunning(Running):
    backup_dir: str = ""


@pytest.fixture(scope="session")
def backup_gateway() -> Iterator[BackupRunning]:
    """``--demo`` over a SQLite file whose ``[backup]`` is configured: a random 32-byte key,
    archives written to a temporary directory."""
    root = tempfile.mkdtemp(prefix="sdk-py-backups-")
    backup_dir = os.path.join(root, "archives")
    os.mkdir(backup_dir)
    cfg = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
    proc: Optional[Gateway] = None
    try:
        with cfg:
            key = base64.b64encode(os.urandom(32)).decode()
            cfg.write(BACKUP_CONFIG.format(token=ADMIN_TOKEN, key=key, dir=backup_dir, root=root))
        proc, url = _start(["--demo", "--listen", "127.0.0.1:0", "--config", cfg.name], {"GATEWAY_DEMO_KEY": DEMO_KEY})
        yield BackupRunning(url, backup_dir=backup_dir)
    finally:
        if proc is not None:
            proc.stop()
        os.unlink(cfg.name)
        shutil.rmtree(root, ignore_errors=True)


ENCRYPTION_CONFIG = """
[admin]
token = "{token}"

[encryption]
kek = "{kek}"
kek_id = "sdk-kek"
"""


@pytest.fixture(scope="session")
def encryption_gateway() -> Iterator[Running]:
    """``--demo`` (its in-memory SQLite store) with ``[encryption]`` on: a random 32-byte KEK."""
    cfg = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
    proc: Optional[Gateway] = None
    try:
        with cfg:
            kek = base64.b64encode(os.urandom(32)).decode()
            cfg.write(ENCRYPTION_CONFIG.format(token=ADMIN_TOKEN, kek=kek))
        proc, url = _start(["--demo", "--listen", "127.0.0.1:0", "--config", cfg.name], {"GATEWAY_DEMO_KEY": DEMO_KEY})
        yield Running(url)
    finally:
        if proc is not None:
            proc.stop()
        os.unlink(cfg.name)


@pytest.fixture(scope="session")
def idle_async_gateway() -> Iterator[Running]:
    cfg = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
    proc: Optional[Gateway] = None
    try:
        with cfg:
            cfg.write("[async]\nworker = false\n")
        proc, url = _start(["--demo", "--listen", "127.0.0.1:0", "--config", cfg.name], {"GATEWAY_DEMO_KEY": DEMO_KEY})
        yield Running(url)
    finally:
        if proc is not None:
            proc.stop()
        os.unlink(cfg.name)


def _mock(vendor: str) -> "tuple[subprocess.Popen[str], str]":
    mock = subprocess.Popen(
        [_binary("MOCK_UPSTREAM_BIN", "mock-upstream"), "--vendor", vendor],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    assert mock.stdout is not None
    match = LISTEN_RE.search(mock.stdout.readline())
    if match is None:
        mock.kill()
        raise RuntimeError(f"mock-upstream --vendor {vendor} printed no address")
    return mock, match.group(1)


UPSTREAM_CONFIG = """
[admin]
token = "{token}"

[providers.openai-mock]
kind = "openai"
base_url = "{openai}/v1"
api_key = "sk-upstream-mock"

[providers.claude-mock]
kind = "anthropic"
base_url = "{anthropic}"
api_key = "sk-ant-mock"

[models.gpt-test]
provider = "openai-mock"
upstream_model = "gpt-4o-mini"

[models.claude-test]
provider = "claude-mock"
upstream_model = "claude-sonnet-4-5"

# The first deployment always fails (500); the call succeeds on the second attempt.
[models.fallback-test]
deployments = [
  {{ provider = "openai-mock", upstream_model = "mock-500", priority = 0 }},
  {{ provider = "openai-mock", upstream_model = "gpt-4o-mini", priority = 1 }},
]
routing = {{ strategy = "priority", max_attempts = 2, base_backoff = "1ms", max_backoff = "2ms", circuit = {{ failure_threshold = 1000000 }} }}

# The upstream always answers 429 with retry-after: 1, and the gateway does not retry it.
[models.limited-test]
provider = "openai-mock"
upstream_model = "mock-429"
routing = {{ max_attempts = 1, circuit = {{ failure_threshold = 1000000 }} }}

[query]
model = "limited-test"
"""


@pytest.fixture(scope="session")
def upstream_gateway() -> Iterator[Running]:
    openai_mock, openai_url = _mock("openai")
    anthropic_mock, anthropic_url = _mock("anthropic")
    cfg = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
    proc: Optional[Gateway] = None
    try:
        with cfg:
            cfg.write(UPSTREAM_CONFIG.format(token=ADMIN_TOKEN, openai=openai_url, anthropic=anthropic_url))
        # --demo for its in-memory store and demo key; the mocks serve the other models.
        proc, url = _start(["--demo", "--listen", "127.0.0.1:0", "--config", cfg.name], {"GATEWAY_DEMO_KEY": DEMO_KEY})
        yield Running(url)
    finally:
        if proc is not None:
            proc.stop()
        for mock in (openai_mock, anthropic_mock):
            mock.terminate()
            mock.wait(timeout=10)
        os.unlink(cfg.name)


@pytest.fixture()
def admin(gateway: Running) -> Iterator[Client]:
    with Client(gateway.url, gateway.admin_token, max_retries=0) as client:
        yield client


def unique(prefix: str) -> str:
    """A fresh name, so that tests sharing one gateway never collide."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def eventually(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True
