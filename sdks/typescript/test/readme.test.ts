/** The README's quick start runs as written (as JavaScript: it has no type annotations),
 * importing the package by its name, against the real gateway. */

import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { pathToFileURL } from "node:url";

import { ADMIN_TOKEN, type Running, startGateway } from "./harness.js";

let gw: Running;
before(async () => {
  gw = await startGateway();
});
after(() => gw.stop());

test("the quick start runs", async () => {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const section = readme.slice(readme.indexOf("## Quick start"));
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(code, "the quick start has a ts block");
  assert.ok(code.split("\n").filter((l) => l.trim()).length <= 10, "the quick start is ten lines at most");
  // Inside the package, so that `llm-secure-gateway` resolves to this build (self-reference).
  const file = new URL("../quickstart.mjs", import.meta.url);
  writeFileSync(file, code.replaceAll("http://127.0.0.1:8080", gw.url).replaceAll("<admin token>", ADMIN_TOKEN));
  const printed: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => printed.push(args.map(String).join(" "));
  try {
    await import(pathToFileURL(file.pathname).href);
  } finally {
    console.log = log;
  }
  assert.equal(printed[0], "demo", "onResponse saw the provider");
  assert.equal(printed[1], "Hello! You said: Hello! 1");
  assert.ok(printed[2]?.startsWith("key,model,day,requests"), printed.join("\n"));
});
