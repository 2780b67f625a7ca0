"""Rows of the chat APIs: the openai SDK (chat completions, embeddings) and the anthropic SDK
(Messages) against each upstream kind. See `matrix.py` for how rows are declared."""

from __future__ import annotations

import json

from matrix import UPSTREAMS, check, expect_error, row

HELLO = [{"role": "user", "content": "Hello there"}]


# ---- openai SDK (Python) ------------------------------------------------------------------


def _openai_plain(upstream: str):
    def run(ctx) -> None:
        client = ctx.openai()
        resp = client.chat.completions.create(model=ctx.model(upstream), messages=HELLO)
        text = resp.choices[0].message.content or ""
        check(text != "" and resp.choices[0].finish_reason == "stop", f"{resp!r}")
        check(resp.usage is not None and resp.usage.prompt_tokens > 0, f"usage {resp.usage!r}")
        chunks = list(
            client.chat.completions.create(
                model=ctx.model(upstream), messages=HELLO, stream=True, stream_options={"include_usage": True}
            )
        )
        streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        check(streamed != "", f"empty stream {chunks!r}")
        finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
        check(finishes == ["stop"], f"finish reasons {finishes!r}")
        check(chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0, f"last {chunks[-1]!r}")

    return run


def _openai_parse(upstream: str):
    def run(ctx) -> None:
        from pydantic import BaseModel

        class City(BaseModel):
            name: str
            population: int

        client = ctx.openai()
        done = client.chat.completions.parse(
            model=ctx.model(upstream), messages=[{"role": "user", "content": "Name a city"}], response_format=City
        )
        parsed = done.choices[0].message.parsed
        check(isinstance(parsed, City), f"not parsed: {done!r}")
        check(done.choices[0].finish_reason == "stop", f"finish {done.choices[0].finish_reason!r}")
        obj = client.chat.completions.create(
            model=ctx.model(upstream),
            messages=[{"role": "user", "content": "Reply in JSON"}],
            response_format={"type": "json_object"},
        )
        check(isinstance(json.loads(obj.choices[0].message.content or ""), dict), f"{obj!r}")

    return run


def _openai_tools(upstream: str):
    def run(ctx) -> None:
        client = ctx.openai()
        tools = [{"type": "function", "function": {"name": "get_weather", "description": "Weather of a city",
                  "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
        messages = [{"role": "user", "content": "What is the weather in Paris?"}]
        first = client.chat.completions.create(model=ctx.model(upstream), messages=messages, tools=tools)
        call = (first.choices[0].message.tool_calls or [None])[0]
        check(call is not None and call.function.name == "get_weather", f"{first!r}")
        check(first.choices[0].finish_reason == "tool_calls", f"finish {first.choices[0].finish_reason!r}")
        check("city" in json.loads(call.function.arguments), f"arguments {call.function.arguments!r}")
        messages += [first.choices[0].message.model_dump(exclude_none=True),
                     {"role": "tool", "tool_call_id": call.id, "content": "21C and sunny"}]
        second = client.chat.completions.create(model=ctx.model(upstream), messages=messages, tools=tools)
        check(second.choices[0].finish_reason == "stop" and second.choices[0].message.content, f"{second!r}")

    return run


def _openai_overloaded(upstream: str):
    def run(ctx) -> None:
        import openai

        ctx.script({"type": "fail", "status": 503, "times": None})
        err = expect_error(
            openai.InternalServerError,
            lambda: ctx.openai().chat.completions.create(model=ctx.model(upstream), messages=HELLO),
        )
        check(err.status_code == 503, f"status {err.status_code}")

    return run


for _up in UPSTREAMS:
    row("openai-python", _up, "chat: plain and streamed")(_openai_plain(_up))
    row("openai-python", _up, "structured output: parse() and json_object")(_openai_parse(_up))
    row("openai-python", _up, "tools: a function call over two turns")(_openai_tools(_up))
    row("openai-python", _up, "errors: upstream 503 overloaded")(_openai_overloaded(_up))


@row("openai-python", "anthropic", "errors: upstream 503 overloaded", mock="testkit")
def _openai_anthropic_529(ctx) -> None:
    import openai

    err = expect_error(
        openai.InternalServerError,
        lambda: ctx.openai().chat.completions.create(model=ctx.model("anthropic", "testkit", "mock-overloaded"), messages=HELLO),
    )
    check(err.status_code == 503, f"Anthropic's 529 reached the OpenAI client as {err.status_code}")


@row("openai-python", "openai", "vendor-only fields are not sent upstream")
def _openai_vendor_fields(ctx) -> None:
    raw = ctx.openai().chat.completions.with_raw_response.create(
        model=ctx.model("openai"),
        messages=[{"role": "user", "content": [{"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}}]}],
        extra_body={"top_k": 5, "thinking": {"type": "enabled", "budget_tokens": 2048}},
    )
    check(raw.headers.get("x-gateway-dropped-params") == "top_k", f"dropped header {raw.headers!r}")
    body = ctx.upstream_bodies("/v1/chat/completions")[-1]
    for field in ("top_k", "thinking"):
        check(field not in body, f"{field} reached the OpenAI upstream: {body!r}")
    check("cache_control" not in json.dumps(body["messages"]), f"cache_control reached the upstream: {body!r}")
    check(body.get("reasoning_effort") == "medium", f"thinking was not mapped to reasoning_effort: {body!r}")


@row("openai-python", "openai", "top_k to an OpenAI-compatible server that takes it (passthrough_params)")
def _openai_top_k_passthrough(ctx) -> None:
    raw = ctx.openai().chat.completions.with_raw_response.create(
        model=ctx.model("openai") + "-topk", messages=HELLO, extra_body={"top_k": 5}
    )
    check(raw.headers.get("x-gateway-dropped-params") is None, f"dropped header {raw.headers!r}")
    body = ctx.upstream_bodies("/v1/chat/completions")[-1]
    check(body.get("top_k") == 5, f"top_k did not reach the upstream: {body!r}")


@row("openai-python", "anthropic", "reasoning: reasoning_effort <-> thinking budget")
def _openai_reasoning_anthropic(ctx) -> None:
    ctx.openai().chat.completions.create(model=ctx.model("anthropic"), messages=HELLO, reasoning_effort="high", max_tokens=100)
    body = ctx.upstream_bodies("/anthropic/v1/messages")[-1]
    check(body.get("thinking", {}).get("type") == "enabled", f"no thinking sent: {body!r}")
    check(body["max_tokens"] > body["thinking"]["budget_tokens"] >= 1024, f"budget {body!r}")
    check("reasoning_effort" not in body, f"reasoning_effort reached Anthropic: {body!r}")


@row("openai-python", "gemini", "reasoning: reasoning_effort <-> thinking budget")
def _openai_reasoning_gemini(ctx) -> None:
    ctx.openai().chat.completions.create(model=ctx.model("gemini"), messages=HELLO, reasoning_effort="low")
    body = ctx.upstream_bodies(":generateContent")[-1]
    config = body.get("generationConfig", {}).get("thinkingConfig", {})
    check(config.get("thinkingBudget", 0) > 0 and config.get("includeThoughts") is True, f"{body!r}")


def _openai_thinking(upstream: str):
    def run(ctx) -> None:
        # Asked for as an OpenAI client asks for reasoning (Gemini sends thought text only then).
        client = ctx.openai()
        model = ctx.model(upstream, "testkit", "mock-thinking")
        resp = client.chat.completions.create(model=model, messages=HELLO, reasoning_effort="low")
        check(bool(getattr(resp.choices[0].message, "reasoning_content", None)), f"no reasoning_content: {resp!r}")
        check(resp.choices[0].message.content, f"no answer text: {resp!r}")
        if upstream == "gemini":
            check(resp.usage.completion_tokens_details.reasoning_tokens > 0, f"usage {resp.usage!r}")
        chunks = list(client.chat.completions.create(model=model, messages=HELLO, reasoning_effort="low", stream=True))
        streamed = "".join(getattr(c.choices[0].delta, "reasoning_content", None) or "" for c in chunks if c.choices)
        check(streamed != "", f"no streamed reasoning_content: {chunks!r}")

    return run


for _up in ("anthropic", "gemini"):
    row("openai-python", _up, "reasoning: thinking surfaced as reasoning_content", mock="testkit")(_openai_thinking(_up))


@row("openai-python", "anthropic", "prompt caching: cached tokens reported", mock="testkit")
def _openai_cache(ctx) -> None:
    resp = ctx.openai().chat.completions.create(model=ctx.model("anthropic", "testkit", "mock-cache"), messages=HELLO)
    details = resp.usage.prompt_tokens_details
    check(details is not None and (details.cached_tokens or 0) > 0, f"usage {resp.usage!r}")


@row("openai-python", "anthropic", "unsupported parameters: drop (header) or reject (400)")
def _openai_unsupported(ctx) -> None:
    import openai

    raw = ctx.openai().chat.completions.with_raw_response.create(
        model=ctx.model("anthropic"), messages=HELLO, seed=7, logit_bias={"50256": -100}
    )
    dropped = raw.headers.get("x-gateway-dropped-params", "")
    check(set(dropped.split(", ")) == {"seed", "logit_bias"}, f"dropped header {dropped!r}")
    body = ctx.upstream_bodies("/anthropic/v1/messages")[-1]
    check("seed" not in body and "logit_bias" not in body, f"{body!r}")
    err = expect_error(
        openai.BadRequestError,
        lambda: ctx.openai().chat.completions.create(model=ctx.model("anthropic") + "-strict", messages=HELLO, seed=7),
    )
    check(err.body.get("param") == "seed" and "seed" in str(err), f"{err!r}")


@row("openai-python", "anthropic", "chat: n > 1 choices",
     unsupported="400 invalid_request_error: Anthropic models return one choice per request; 'n' must be 1")
def _openai_n_anthropic(ctx) -> None:
    import openai

    err = expect_error(
        openai.BadRequestError,
        lambda: ctx.openai().chat.completions.create(model=ctx.model("anthropic"), messages=HELLO, n=2),
    )
    check("'n' must be 1" in str(err), f"{err!r}")


def _embeddings(upstream: str, mock: str):
    def run(ctx) -> None:
        import base64
        import struct

        client = ctx.openai()
        floats = client.embeddings.create(model=ctx.model(upstream, mock), input=["a cat", "a dog"], encoding_format="float")
        vectors = [d.embedding for d in floats.data]
        check(len(vectors) == 2 and all(isinstance(x, float) for x in vectors[0]), f"{floats!r}")
        raw = client.embeddings.with_raw_response.create(
            model=ctx.model(upstream, mock), input=["a cat", "a dog"], encoding_format="base64"
        )
        data = json.loads(raw.text)["data"]
        decoded = [list(struct.unpack(f"<{len(base64.b64decode(d['embedding'])) // 4}f", base64.b64decode(d["embedding"]))) for d in data]
        check(all(isinstance(d["embedding"], str) for d in data), f"not base64: {data!r}")
        check(all(abs(a - b) < 1e-6 for v, w in zip(vectors, decoded) for a, b in zip(v, w)), "base64 vectors differ")

    return run


row("openai-python", "openai", "embeddings: encoding_format float and base64")(_embeddings("openai", "llmock"))
row("openai-python", "gemini", "embeddings: encoding_format float and base64", mock="testkit")(_embeddings("gemini", "testkit"))


@row("openai-python", "anthropic", "embeddings: encoding_format float and base64",
     unsupported="400 invalid_request_error: provider 'llmock-anthropic' does not serve embeddings")
def _embeddings_anthropic(ctx) -> None:
    import openai

    err = expect_error(openai.BadRequestError, lambda: ctx.openai().embeddings.create(model=ctx.model("anthropic"), input="x"))
    check("does not serve embeddings" in str(err), f"{err!r}")


# ---- anthropic SDK (Python) ---------------------------------------------------------------


def _anthropic_plain(upstream: str):
    def run(ctx) -> None:
        client = ctx.anthropic()
        raw = client.messages.with_raw_response.create(model=ctx.model(upstream), max_tokens=200, messages=HELLO)
        msg = raw.parse()
        check(raw.headers.get("request-id") and raw.headers.get("request-id") == raw.headers.get("x-request-id"),
              f"request ids {raw.headers!r}")
        check(msg._request_id == raw.headers.get("request-id"), f"_request_id {msg._request_id!r}")
        check(msg.stop_reason == "end_turn" and msg.content[0].type == "text", f"{msg!r}")
        with client.messages.stream(model=ctx.model(upstream), max_tokens=200, messages=HELLO) as stream:
            events = list(stream)
            final = stream.get_final_message()
        start = next(e for e in events if e.type == "message_start")
        if upstream == "anthropic":
            check(start.message.usage.input_tokens > 0, f"message_start usage {start.message.usage!r}")
        check(final.stop_reason == "end_turn" and final.usage.output_tokens > 0, f"{final!r}")

    return run


def _anthropic_structured(upstream: str):
    def run(ctx) -> None:
        schema = {"type": "object", "properties": {"name": {"type": "string"}, "population": {"type": "integer"}},
                  "required": ["name", "population"], "additionalProperties": False}
        msg = ctx.anthropic().messages.create(
            model=ctx.model(upstream), max_tokens=300, messages=[{"role": "user", "content": "Name a city"}],
            extra_body={"output_config": {"format": {"type": "json_schema", "schema": schema}}},
        )
        value = json.loads(msg.content[0].text)
        check(isinstance(value.get("name"), str) and isinstance(value.get("population"), int), f"{msg!r}")
        body = ctx.upstream_bodies("")[-1]
        check("output_config" not in body, f"output_config sent verbatim to a non-Anthropic upstream: {body!r}")

    return run


def _anthropic_overloaded(upstream: str, mock: str, script: str | None):
    def run(ctx) -> None:
        import anthropic

        if mock == "llmock":
            ctx.script({"type": "fail", "status": 503, "times": None})
        err = expect_error(
            anthropic.APIStatusError,
            lambda: ctx.anthropic().messages.create(model=ctx.model(upstream, mock, script), max_tokens=10, messages=HELLO),
        )
        check(err.status_code == 529 and err.body["error"]["type"] == "overloaded_error", f"{err.status_code} {err.body!r}")
        check(isinstance(err, anthropic.OverloadedError) if hasattr(anthropic, "OverloadedError") else True, f"{type(err)}")

    return run


for _up in UPSTREAMS:
    row("anthropic-python", _up, "chat: plain and streamed (request ids, message_start usage)")(_anthropic_plain(_up))
    row("anthropic-python", _up, "errors: upstream 503 overloaded")(_anthropic_overloaded(_up, "llmock", None))
for _up in ("openai", "gemini"):
    row("anthropic-python", _up, "structured output: output_config json_schema")(_anthropic_structured(_up))
row("anthropic-python", "anthropic", "errors: upstream 529 overloaded", mock="testkit")(
    _anthropic_overloaded("anthropic", "testkit", "mock-overloaded")
)


@row("anthropic-python", "anthropic", "structured output: output_config json_schema")
def _anthropic_output_config_verbatim(ctx) -> None:
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"], "additionalProperties": False}
    ctx.anthropic().messages.create(
        model=ctx.model("anthropic"), max_tokens=100, messages=HELLO,
        extra_body={"output_config": {"format": {"type": "json_schema", "schema": schema}}},
    )
    body = ctx.upstream_bodies("/anthropic/v1/messages")[-1]
    check(body.get("output_config", {}).get("format", {}).get("schema") == schema, f"not verbatim: {body!r}")


@row("anthropic-python", "anthropic", "stop reasons: stop_sequence, pause_turn, refusal, tool_use", mock="testkit")
def _anthropic_stop_sequence(ctx) -> None:
    client = ctx.anthropic()
    model = ctx.model("anthropic", "testkit", "mock-stop-sequence")
    msg = client.messages.create(model=model, max_tokens=50, messages=HELLO, stop_sequences=["###"])
    check((msg.stop_reason, msg.stop_sequence) == ("stop_sequence", "###"), f"{msg.stop_reason} {msg.stop_sequence}")
    with client.messages.stream(model=model, max_tokens=50, messages=HELLO, stop_sequences=["###"]) as stream:
        final = stream.get_final_message()
    check((final.stop_reason, final.stop_sequence) == ("stop_sequence", "###"), f"streamed {final!r}")


@row("anthropic-python", "anthropic", "stop reasons: stop_sequence, pause_turn, refusal, tool_use")
def _anthropic_stop_reasons(ctx) -> None:
    client = ctx.anthropic()
    for reason in ("pause_turn", "refusal"):
        ctx.script({"type": "reply", "text": "partial", "finish_reason": reason})
        msg = client.messages.create(model=ctx.model("anthropic"), max_tokens=50, messages=HELLO)
        check(msg.stop_reason == reason, f"{reason}: got {msg.stop_reason!r}")
        ctx.script({"type": "reply", "text": "partial", "finish_reason": reason})
        with client.messages.stream(model=ctx.model("anthropic"), max_tokens=50, messages=HELLO) as stream:
            final = stream.get_final_message()
        check(final.stop_reason == reason, f"streamed {reason}: got {final.stop_reason!r}")
    tools = [{"name": "get_weather", "description": "Weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}]
    msg = client.messages.create(model=ctx.model("anthropic"), max_tokens=100, tools=tools,
                                 messages=[{"role": "user", "content": "Weather in Paris?"}])
    check(msg.stop_reason == "tool_use" and msg.content[-1].type == "tool_use", f"{msg!r}")


def _anthropic_thinking(upstream: str):
    def run(ctx) -> None:
        client = ctx.anthropic()
        model = ctx.model(upstream, "testkit", "mock-thinking")
        msg = client.messages.create(model=model, max_tokens=2000, messages=HELLO,
                                     thinking={"type": "enabled", "budget_tokens": 1024})
        check(msg.content[0].type == "thinking" and msg.content[0].thinking, f"{msg!r}")
        with client.messages.stream(model=model, max_tokens=2000, messages=HELLO,
                                    thinking={"type": "enabled", "budget_tokens": 1024}) as stream:
            final = stream.get_final_message()
        check(final.content[0].type == "thinking" and final.content[0].thinking, f"streamed {final!r}")

    return run


for _up in ("anthropic", "gemini"):
    row("anthropic-python", _up, "reasoning: thinking blocks", mock="testkit")(_anthropic_thinking(_up))


@row("anthropic-python", "openai", "reasoning: thinking budget -> reasoning_effort")
def _anthropic_thinking_to_openai(ctx) -> None:
    ctx.anthropic().messages.create(model=ctx.model("openai"), max_tokens=5000, messages=HELLO,
                                    thinking={"type": "enabled", "budget_tokens": 4096})
    body = ctx.upstream_bodies("/v1/chat/completions")[-1]
    check(body.get("reasoning_effort") == "medium" and "thinking" not in body, f"{body!r}")


@row("anthropic-python", "anthropic", "prompt caching: cache_read_input_tokens", mock="testkit")
def _anthropic_cache(ctx) -> None:
    msg = ctx.anthropic().messages.create(
        model=ctx.model("anthropic", "testkit", "mock-cache"), max_tokens=50,
        system=[{"type": "text", "text": "long context", "cache_control": {"type": "ephemeral"}}], messages=HELLO,
    )
    check((msg.usage.cache_read_input_tokens or 0) > 0, f"usage {msg.usage!r}")
