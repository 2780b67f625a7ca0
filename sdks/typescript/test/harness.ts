/**
 * The real `llm-gateway` binary (and `mock-upstream` processes), started on port 0 for the
 * tests. The binaries come from `LLM_GATEWAY_BIN` and `MOCK_UPSTREAM_BIN` (`cargo xtask test`
 * sets both; by hand: `cargo build -p llm-gateway -p gateway-testkit --bins`).
 */

import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";

export const DEMO_KEY = "sk-gw-DemoKeyForEndToEndTests0123456789abcdefghij";
export const ADMIN_TOKEN = "sdk-test-admin-token-0123456789abcdef";
const LISTEN = /listening on (http:\/\/[0-9.:]+)/;

function binary(env: string, name: string): string {
  const target = process.env.CARGO_TARGET_DIR ?? resolve(process.cwd(), "../../target");
  const path = process.env[env] ?? join(target, "debug", name);
  if (!existsSync(path)) throw new Error(`${name} not found at ${path}: set ${env} or run \`cargo xtask test\``);
  return path;
}

export interface Running {
  url: string;
  stop(): Promise<void>;
}

/** Starts `bin` and resolves with the URL it prints (`listening on http://...`). */
function start(bin: string, args: string[], env: Record<string, string> = {}): Promise<Running> {
  const child: ChildProcess = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const stderr: string[] = [];
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr.push(chunk.toString());
    if (stderr.length > 200) stderr.shift();
  });
  const stop = (): Promise<void> =>
    new Promise((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done();
      // Idle kept-alive connections of the test's fetch would hold a graceful stop for a few
      // seconds; SIGKILL after a short grace keeps the suite quick (nothing is persisted).
      const kill = setTimeout(() => child.kill("SIGKILL"), 1000);
      child.once("exit", () => {
        clearTimeout(kill);
        done();
      });
      child.kill("SIGTERM");
    });
  return new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${bin} printed no address within 60 s:\n${stderr.join("")}`));
    }, 60_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${bin} exited with ${code} before listening:\n${stderr.join("")}`));
    });
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      const match = LISTEN.exec(line);
      if (match?.[1]) {
        clearTimeout(timer);
        resolveUrl({ url: match[1], stop });
      }
    });
  });
}

/** `--demo` with the admin API on (a bootstrap token) and the response cache on. */
export function startGateway(): Promise<Running> {
  return start(binary("LLM_GATEWAY_BIN", "llm-gateway"), ["--demo", "--listen", "127.0.0.1:0"], {
    GATEWAY_DEMO_KEY: DEMO_KEY,
    GATEWAY__ADMIN__TOKEN: ADMIN_TOKEN,
    GATEWAY__CACHE__ENABLED: "true",
  });
}

const UPSTREAM_CONFIG = (openai: string, anthropic: string): string => `
[admin]
token = "${ADMIN_TOKEN}"

[providers.openai-mock]
kind = "openai"
base_url = "${openai}/v1"
api_key = "sk-upstream-mock"

[providers.claude-mock]
kind = "anthropic"
base_url = "${anthropic}"
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
  { provider = "openai-mock", upstream_model = "mock-500", priority = 0 },
  { provider = "openai-mock", upstream_model = "gpt-4o-mini", priority = 1 },
]
routing = { strategy = "priority", max_attempts = 2, base_backoff = "1ms", max_backoff = "2ms", circuit = { failure_threshold = 1000000 } }

# The upstream always answers 429 with retry-after: 1, and the gateway does not retry it.
[models.limited-test]
provider = "openai-mock"
upstream_model = "mock-429"
routing = { max_attempts = 1, circuit = { failure_threshold = 1000000 } }

[query]
model = "limited-test"
`;

/** A gateway whose models are served by an OpenAI-format and an Anthropic-format mock. */
export async function startUpstreamGateway(): Promise<Running> {
  const mockBin = binary("MOCK_UPSTREAM_BIN", "mock-upstream");
  const openai = await start(mockBin, ["--vendor", "openai"]);
  const anthropic = await start(mockBin, ["--vendor", "anthropic"]);
  const dir = mkdtempSync(join(tmpdir(), "sdk-ts-"));
  const config = join(dir, "gateway.toml");
  writeFileSync(config, UPSTREAM_CONFIG(openai.url, anthropic.url));
  const gateway = await start(
    binary("LLM_GATEWAY_BIN", "llm-gateway"),
    ["--demo", "--listen", "127.0.0.1:0", "--config", config],
    { GATEWAY_DEMO_KEY: DEMO_KEY },
  );
  return {
    url: gateway.url,
    async stop() {
      await gateway.stop();
      await Promise.all([openai.stop(), anthropic.stop()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let counter = 0;
/** A fresh name, so that tests sharing one gateway never collide. */
export function unique(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

/** Whether `condition` held within `timeoutMs`, polled every 50 ms. */
export async function eventually(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `--demo` with the admin API and webhooks that may call receivers on 127.0.0.1 over http,
 * looking for due deliveries every 50 ms (the tests' receivers are local). */
export async function startWebhookGateway(): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), "sdk-ts-hooks-"));
  const config = join(dir, "gateway.toml");
  writeFileSync(
    config,
    `[admin]\ntoken = "${ADMIN_TOKEN}"\n\n[webhooks]\nallow_private = ["127.0.0.1/32"]\nallow_http = true\npoll_interval = "50ms"\n`,
  );
  const gateway = await start(binary("LLM_GATEWAY_BIN", "llm-gateway"), ["--demo", "--listen", "127.0.0.1:0", "--config", config], {
    GATEWAY_DEMO_KEY: DEMO_KEY,
  });
  return {
    url: gateway.url,
    async stop() {
      await gateway.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface BackupRunning extends Running {
  /** Where the gateway writes its archives (`[backup] dir`). */
  backupDir: string;
}

/** `--demo` over a SQLite file (the in-memory store of a bare `--demo` cannot be backed up:
 * `VACUUM INTO` fails) with the admin API and `[backup]` configured: a random 32-byte key,
 * archives in a temporary directory. */
export async function startBackupGateway(): Promise<BackupRunning> {
  const dir = mkdtempSync(join(tmpdir(), "sdk-ts-backups-"));
  const backupDir = join(dir, "archives");
  mkdirSync(backupDir);
  const config = join(dir, "gateway.toml");
  const key = randomBytes(32).toString("base64");
  writeFileSync(
    config,
    `[admin]\ntoken = "${ADMIN_TOKEN}"\n\n[store]\ndatabase_url = "sqlite://${join(dir, "gateway.db")}?mode=rwc"\n\n[backup]\nkey = "${key}"\ndir = "${backupDir}"\n`,
  );
  const gateway = await start(binary("LLM_GATEWAY_BIN", "llm-gateway"), ["--demo", "--listen", "127.0.0.1:0", "--config", config], {
    GATEWAY_DEMO_KEY: DEMO_KEY,
  });
  return {
    url: gateway.url,
    backupDir,
    async stop() {
      await gateway.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `--demo` (its in-memory SQLite store) with the admin API and `[encryption]` on: a random
 * 32-byte KEK whose id is `sdk-kek`. */
export async function startEncryptionGateway(): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), "sdk-ts-encryption-"));
  const config = join(dir, "gateway.toml");
  const kek = randomBytes(32).toString("base64");
  writeFileSync(config, `[admin]\ntoken = "${ADMIN_TOKEN}"\n\n[encryption]\nkek = "${kek}"\nkek_id = "sdk-kek"\n`);
  const gateway = await start(binary("LLM_GATEWAY_BIN", "llm-gateway"), ["--demo", "--listen", "127.0.0.1:0", "--config", config], {
    GATEWAY_DEMO_KEY: DEMO_KEY,
  });
  return {
    url: gateway.url,
    async stop() {
      await gateway.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `--demo` whose async worker is off (`[async] worker = false`): its async jobs stay
 * `pending`, for bounded waits and cancellation. */
export async function startIdleAsyncGateway(): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), "sdk-ts-idle-"));
  const config = join(dir, "gateway.toml");
  writeFileSync(config, "[async]\nworker = false\n");
  const gateway = await start(binary("LLM_GATEWAY_BIN", "llm-gateway"), ["--demo", "--listen", "127.0.0.1:0", "--config", config], {
    GATEWAY_DEMO_KEY: DEMO_KEY,
  });
  return {
    url: gateway.url,
    async stop() {
      await gateway.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
