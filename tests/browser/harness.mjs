// Processes and helpers of the browser tests: the mock upstream (gateway-testkit's
// `mock-upstream`), the real `llm-gateway` binary with a temporary configuration, the admin
// API over HTTP, and a small runner that reports each test and stops everything at the end.

import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ADMIN_TOKEN = 'console-admin-token-0123456789abcdef';

/** Starts `bin args`, resolves with the first `listening on http://...` address it prints. */
export function startProcess(name, bin, args, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const tail = [];
    const keep = (chunk) => {
      for (const line of String(chunk).split('\n')) if (line) tail.push(line);
      tail.splice(0, Math.max(0, tail.length - 40));
    };
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 60 s:\n${tail.join('\n')}`)), 60000);
    child.stdout.on('data', (chunk) => {
      keep(chunk);
      const m = String(chunk).match(/listening on (http:\/\/[0-9.:]+)/);
      if (m) { clearTimeout(timer); resolve({ url: m[1], child, tail }); }
    });
    child.stderr.on('data', keep);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${name} exited with ${code}:\n${tail.join('\n')}`)); });
  });
}

/** The mock upstream and a gateway in front of it; `stop()` ends both. */
export async function startGateway() {
  const mock = await startProcess('mock-upstream', requireEnv('MOCK_UPSTREAM_BIN'), ['--listen', '127.0.0.1:0']);
  const dir = mkdtempSync(join(tmpdir(), 'console-browser-'));
  const config = join(dir, 'gateway.toml');
  // `chat` answers at once, `stream` streams its answer in chunks 120 ms apart, `chat-b`
  // (50 ms slower) is the second model of the comparison, `cached` answers from the response
  // cache when asked twice, and `flaky`'s upstream always fails (its circuit opens after two
  // calls). `chat` and `cached` (gpt-4o-mini) are priced by the shipped table, `stream` and
  // `chat-b` by the prices below; `flaky` is unpriced.
  writeFileSync(config, `
[server]
listen = "127.0.0.1:0"
data_dir = ${JSON.stringify(dir)}

[admin]
token = "${ADMIN_TOKEN}"

[providers.mock]
kind = "openai"
base_url = "${mock.url}/v1"
api_key = "sk-upstream-browser-test-secret-000"

[models.chat]
provider = "mock"
upstream_model = "gpt-4o-mini"

[models.stream]
provider = "mock"
upstream_model = "mock-stream-gap-120"

[models.chat-b]
provider = "mock"
upstream_model = "mock-slow-50"

[models.cached]
provider = "mock"
upstream_model = "gpt-4o-mini"

[models.flaky]
provider = "mock"
upstream_model = "mock-500"
routing = { max_attempts = 1, circuit = { failure_threshold = 2, cooldown = "600s" } }

[telemetry.prices."mock-stream-gap-120"]
input_per_mtok = 3.0
output_per_mtok = 15.0

[telemetry.prices."mock-slow-50"]
input_per_mtok = 0.5
output_per_mtok = 1.5

[cache]
enabled = true

[cache.models.chat]
enabled = false

[cache.models.stream]
enabled = false

[cache.models.chat-b]
enabled = false

[cache.models.flaky]
enabled = false
`);
  let gateway;
  try {
    gateway = await startProcess('llm-gateway', requireEnv('LLM_GATEWAY_BIN'), ['-c', config], { RUST_LOG: 'warn' });
  } catch (e) {
    mock.child.kill('SIGTERM');
    throw e;
  }
  return {
    url: gateway.url,
    logs: () => gateway.tail.join('\n'),
    stop() {
      gateway.child.kill('SIGTERM');
      mock.child.kill('SIGTERM');
    },
  };
}

function requireEnv(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (cargo xtask test sets it)`);
  return value;
}

/** A call to the admin API with the bootstrap token. */
export async function adminApi(base, method, path, body) {
  const resp = await fetch(`${base}/admin/v1/${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await resp.json();
  if (!resp.ok) throw new Error(`${method} ${path}: ${resp.status} ${JSON.stringify(json)}`);
  return json;
}

/** Polls `check` until it returns a truthy value (or throws its last error after `ms`). */
export async function eventually(check, ms = 10000, what = 'condition') {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (e) { last = e; }
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${ms} ms${last ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function assert(condition, message) {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

/** Runs the named steps in order, printing each; returns the number of failures. */
export async function run(steps) {
  let failed = 0;
  for (const [name, step] of steps) {
    const started = Date.now();
    try {
      await step();
      console.log(`ok   ${name} (${Date.now() - started} ms)`);
    } catch (e) {
      failed += 1;
      console.log(`FAIL ${name}: ${e.stack || e}`);
    }
  }
  return failed;
}
