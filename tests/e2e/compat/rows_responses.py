"""Rows of the OpenAI Responses API (`client.responses`, what the OpenAI Agents SDK uses)
against each upstream kind. See `matrix.py` for how rows are declared."""

from __future__ import annotations

import json

from matrix import UPSTREAMS, check, expect_error, row

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather of a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def _plain(upstream: str):
    def run(ctx) -> None:
        client = ctx.openai()
        resp = client.responses.create(model=ctx.model(upstream), instructions="Be brief.", input="Hello there")
        check(resp.status == "completed" and resp.output_text != "", f"{resp!r}")
        check(resp.usage is not None and resp.usage.input_tokens > 0 and resp.usage.output_tokens > 0, f"{resp.usage!r}")
        events = list(client.responses.create(model=ctx.model(upstream), input="Hello there", stream=True))
        kinds = [e.type for e in events]
        check(kinds[0] == "response.created" and kinds[-1] == "response.completed", f"events {kinds!r}")
        check([e.sequence_number for e in events] == list(range(len(events))), "sequence numbers")
        streamed = "".join(e.delta for e in events if e.type == "response.output_text.delta")
        check(streamed != "" and streamed == events[-1].response.output_text, f"streamed {streamed!r}")
        check(client.responses.retrieve(resp.id).output_text == resp.output_text, "retrieve")

    return run


def _parse(upstream: str):
    def run(ctx) -> None:
        from pydantic import BaseModel

        class City(BaseModel):
            name: str
            population: int

        done = ctx.openai().responses.parse(model=ctx.model(upstream), input="Name a city", text_format=City)
        check(isinstance(done.output_parsed, City), f"not parsed: {done!r}")

    return run


def _tools(upstream: str):
    def run(ctx) -> None:
        client = ctx.openai()
        first = client.responses.create(model=ctx.model(upstream), input="What is the weather in Paris?", tools=[WEATHER])
        calls = [item for item in first.output if item.type == "function_call"]
        check(len(calls) == 1 and calls[0].name == "get_weather", f"{first.output!r}")
        check("city" in json.loads(calls[0].arguments), f"arguments {calls[0].arguments!r}")
        second = client.responses.create(
            model=ctx.model(upstream),
            previous_response_id=first.id,
            tools=[WEATHER],
            input=[{"type": "function_call_output", "call_id": calls[0].call_id, "output": "21C and sunny"}],
        )
        check(second.status == "completed" and second.output_text != "", f"{second!r}")

    return run


def _reasoning(upstream: str):
    def run(ctx) -> None:
        client = ctx.openai()
        model = ctx.model(upstream, "testkit", "mock-thinking")
        resp = client.responses.create(model=model, input="Hello there", reasoning={"effort": "low"})
        kinds = [item.type for item in resp.output]
        check(kinds == ["reasoning", "message"], f"output {resp.output!r}")
        check(resp.output[0].content and resp.output[0].content[0].text, f"reasoning {resp.output[0]!r}")
        events = list(client.responses.create(model=model, input="Hello there", reasoning={"effort": "low"}, stream=True))
        thought = "".join(e.delta for e in events if e.type == "response.reasoning_text.delta")
        check(thought != "", f"no streamed reasoning: {[e.type for e in events]!r}")

    return run


for _up in UPSTREAMS:
    row("openai-python", _up, "responses: create, stream, retrieve")(_plain(_up))
    row("openai-python", _up, "responses: structured output (parse, text.format)")(_parse(_up))
    row("openai-python", _up, "responses: a function call over two turns (previous_response_id)")(_tools(_up))

for _up in ("anthropic", "gemini"):
    row("openai-python", _up, "responses: reasoning effort and reasoning items", mock="testkit")(_reasoning(_up))


@row(
    "openai-python",
    "openai",
    "responses: built-in tools (web_search, file_search, ...)",
    unsupported="400 invalid_request_error naming tools[0].type: built-in tools are not run by the gateway",
)
def _builtin_tools(ctx) -> None:
    import openai

    err = expect_error(
        openai.BadRequestError,
        lambda: ctx.openai().responses.create(model=ctx.model("openai"), input="news?", tools=[{"type": "web_search"}]),
    )
    check(err.body.get("param") == "tools[0].type", f"{err.body!r}")
