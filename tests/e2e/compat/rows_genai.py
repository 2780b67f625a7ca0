"""Rows of Google's `google-genai` Python SDK (`client.models...`) on the gateway's Gemini API
(`/v1beta`), against each upstream kind. See `matrix.py` for how rows are declared."""

from __future__ import annotations

import json
import urllib.parse

from matrix import UPSTREAMS, check, expect_error, row

CLIENT = "google-genai-python"

WEATHER = {
    "name": "get_weather",
    "description": "Weather of a city",
    "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}, "required": ["city"]},
}


def _generate(upstream: str, mock: str = "llmock"):
    def run(ctx) -> None:
        client = ctx.genai()
        model = ctx.model(upstream, mock)
        resp = client.models.generate_content(
            model=model, contents="Hello there", config={"system_instruction": "Be brief.", "max_output_tokens": 200}
        )
        check(bool(resp.text), f"no text: {resp!r}")
        check(resp.candidates[0].finish_reason.name == "STOP", f"finish {resp.candidates[0].finish_reason!r}")
        usage = resp.usage_metadata
        check(usage is not None and usage.prompt_token_count > 0 and usage.candidates_token_count > 0, f"{usage!r}")
        check(resp.model_version == model, f"model_version {resp.model_version!r}")
        # The resource-name form of the model (`models/NAME`) is the same model.
        again = client.models.generate_content(model=f"models/{model}", contents="Hello there")
        check(bool(again.text), f"models/{model}: {again!r}")
        chunks = list(client.models.generate_content_stream(model=model, contents="Hello there"))
        streamed = "".join(c.text or "" for c in chunks)
        check(streamed != "", f"empty stream {chunks!r}")
        finishes = [c.candidates[0].finish_reason.name for c in chunks if c.candidates and c.candidates[0].finish_reason]
        check(finishes == ["STOP"], f"finish reasons {finishes!r}")
        last = chunks[-1].usage_metadata
        check(last is not None and last.candidates_token_count > 0, f"last usage {last!r}")

    return run


def _function_calling(upstream: str):
    def run(ctx) -> None:
        from google.genai import types

        client = ctx.genai()
        config = types.GenerateContentConfig(
            tools=[types.Tool(function_declarations=[types.FunctionDeclaration(**WEATHER)])],
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        )
        question = types.Content(role="user", parts=[types.Part.from_text(text="What is the weather in Paris?")])
        first = client.models.generate_content(model=ctx.model(upstream), contents=[question], config=config)
        calls = first.function_calls or []
        check(len(calls) == 1 and calls[0].name == "get_weather", f"{first!r}")
        check("city" in (calls[0].args or {}), f"args {calls[0].args!r}")
        answer = types.Part.from_function_response(name="get_weather", response={"result": "21C and sunny"})
        if calls[0].id:
            answer.function_response.id = calls[0].id
        turns = [question, first.candidates[0].content, types.Content(role="user", parts=[answer])]
        second = client.models.generate_content(model=ctx.model(upstream), contents=turns, config=config)
        check(bool(second.text) and not second.function_calls, f"{second!r}")
        check(second.candidates[0].finish_reason.name == "STOP", f"finish {second.candidates[0].finish_reason!r}")

    return run


def _count_tokens(upstream: str):
    def run(ctx) -> None:
        client = ctx.genai()
        short = client.models.count_tokens(model=ctx.model(upstream), contents="Hello")
        longer = client.models.count_tokens(model=ctx.model(upstream), contents="Hello there, how are you today?")
        check(short.total_tokens > 0 and longer.total_tokens > short.total_tokens, f"{short!r} {longer!r}")
        check(ctx.upstream_bodies("") == [], "count_tokens reached the upstream")

    return run


def _embed(upstream: str, mock: str):
    def run(ctx) -> None:
        from google.genai import types

        client = ctx.genai()
        one = client.models.embed_content(model=ctx.model(upstream, mock), contents="Hello")
        check(len(one.embeddings) == 1 and len(one.embeddings[0].values) > 0, f"{one!r}")
        # Contents, not strings: for a model whose name contains "gemini" the SDK makes a list
        # of strings one multi-part content (one embedding), as for Google's multimodal models.
        texts = [types.Content(parts=[types.Part.from_text(text=t)]) for t in ("Hello", "there")]
        two = client.models.embed_content(model=ctx.model(upstream, mock), contents=texts)
        check(len(two.embeddings) == 2 and all(e.values for e in two.embeddings), f"{two!r}")
        check(two.embeddings[0].values == one.embeddings[0].values, "the same text, another vector")
        check(two.embeddings[1].values != one.embeddings[0].values, "two texts, one vector")

    return run


def _models(upstream: str):
    def run(ctx) -> None:
        client = ctx.genai()
        model = ctx.model(upstream)
        got = client.models.get(model=model)
        check(got.name == f"models/{model}" and got.display_name == model, f"{got!r}")
        check("generateContent" in (got.supported_actions or []), f"actions {got.supported_actions!r}")
        check(client.models.get(model=f"models/{model}").name == got.name, "models/NAME form")
        # Small pages: the SDK's pager follows nextPageToken to the end.
        names = [m.name for m in client.models.list(config={"page_size": 2})]
        check(got.name in names and len(names) == len(set(names)) > 2, f"listed {names!r}")
        check(names == sorted(names), f"not in name order: {names!r}")

    return run


for _up in UPSTREAMS:
    row(CLIENT, _up, "gemini: models.list() and models.get()")(_models(_up))
    row(CLIENT, _up, "gemini: generate_content and generate_content_stream")(_generate(_up))
    row(CLIENT, _up, "gemini: function calling over two turns")(_function_calling(_up))
    row(CLIENT, _up, "gemini: count_tokens")(_count_tokens(_up))

row(CLIENT, "openai", "gemini: embed_content (one and several)")(_embed("openai", "llmock"))
row(CLIENT, "gemini", "gemini: embed_content (one and several)", mock="testkit")(_embed("gemini", "testkit"))


@row(CLIENT, "anthropic", "gemini: embed_content (one and several)",
     unsupported="400 INVALID_ARGUMENT: provider 'llmock-anthropic' does not serve embeddings")
def _embed_anthropic(ctx) -> None:
    from google.genai import errors

    client = ctx.genai()  # held: the client closes its connection pool when collected
    err = expect_error(errors.ClientError, lambda: client.models.embed_content(model=ctx.model("anthropic"), contents="x"))
    check(err.code == 400 and err.status == "INVALID_ARGUMENT", f"{err.code} {err.status}")
    check("does not serve embeddings" in (err.message or ""), f"{err!r}")


def _errors(upstream: str):
    def run(ctx) -> None:
        from google.genai import errors

        client = ctx.genai()  # held: the client closes its connection pool when collected
        ctx.script({"type": "fail", "status": 503, "times": None})
        err = expect_error(errors.ServerError, lambda: client.models.generate_content(model=ctx.model(upstream), contents="x"))
        check(err.code == 503 and err.status == "UNAVAILABLE", f"{err.code} {err.status}")
        ctx.clear_upstream()
        err = expect_error(errors.ClientError, lambda: client.models.generate_content(model="no-such-model", contents="x"))
        check(err.code == 404 and err.status == "NOT_FOUND", f"{err.code} {err.status}")

    return run


for _up in UPSTREAMS:
    row(CLIENT, _up, "gemini: errors in Google's shape (upstream 503, unknown model)")(_errors(_up))


@row(CLIENT, "openai", "gemini: model names with / and : (models/ns/name:tag, percent-encoded)")
def _resource_names(ctx) -> None:
    import urllib.request

    client = ctx.genai()
    model = ctx.extra["colon_model"]
    check(client.models.get(model=model).name == f"models/{model}", "models.get")
    resp = client.models.generate_content(model=model, contents="Hello there")
    check(bool(resp.text) and resp.model_version == model, f"{resp!r}")
    chunks = list(client.models.generate_content_stream(model=f"models/{model}", contents="Hello there"))
    check("".join(c.text or "" for c in chunks) != "", f"{chunks!r}")
    check(client.models.count_tokens(model=model, contents="Hello").total_tokens > 0, "count_tokens")
    # The same name percent-encoded, as a URL-building client sends it.
    encoded = urllib.parse.quote(model, safe="")
    request = urllib.request.Request(
        f"{ctx.base_url}/v1beta/models/{encoded}:generateContent",
        data=b'{"contents":[{"role":"user","parts":[{"text":"Hello"}]}]}',
        headers={"x-goog-api-key": ctx.api_key, "content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        body = json.loads(answer.read())
    check(body["modelVersion"] == model, f"{body!r}")
