"""Rows of the Node `openai` SDK (npm), run as a child process (`node/openai_compat.cjs`).
Skipped, with a printed line, where node or the npm cache is missing; a failure under
GATEWAY_REQUIRE_SERVICES=1."""

from __future__ import annotations

from matrix import UPSTREAMS, check, row


def _chat(upstream: str):
    def run(ctx) -> None:
        out = ctx.node("openai_compat.cjs", "chat", ctx.model(upstream))
        check(out["text"] and out["finish"] == "stop", f"{out!r}")
        check(out["streamed"] != "" and out["finishes"] == ["stop"], f"{out!r}")

    return run


for _up in UPSTREAMS:
    row("openai-node", _up, "chat: plain and streamed", needs="node")(_chat(_up))


def _embeddings(upstream: str, mock: str):
    def run(ctx) -> None:
        out = ctx.node("openai_compat.cjs", "embeddings", ctx.model(upstream, mock))
        check(len(out["byDefault"]) == 2 and len(out["byDefault"][0]) == len(out["floats"][0]), f"{out!r}")
        for got, want in zip(out["byDefault"], out["floats"]):
            check(all(abs(a - b) < 1e-6 for a, b in zip(got, want)), "base64 default decodes to other vectors")

    return run


row("openai-node", "openai", "embeddings: encoding_format float and base64", needs="node")(_embeddings("openai", "llmock"))
row("openai-node", "gemini", "embeddings: encoding_format float and base64", mock="testkit", needs="node")(
    _embeddings("gemini", "testkit")
)


@row("openai-node", "anthropic", "errors: upstream 503 overloaded", mock="testkit", needs="node")
def _overloaded(ctx) -> None:
    out = ctx.node("openai_compat.cjs", "overloaded", ctx.model("anthropic", "testkit", "mock-overloaded"))
    check(out["status"] == 503, f"{out!r}")
