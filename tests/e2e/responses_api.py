"""End-to-end tests of the Responses API: the official `openai` SDK's `client.responses`
through the real gateway to each upstream kind the gateway-testkit mocks speak (an
OpenAI-compatible, an Anthropic and a Gemini upstream), plain, streamed, and a function
tool over two turns continued with `previous_response_id`; then retrieve, list the input
items and delete the stored response.

`run_e2e.py` adds these tests to its list (see `tests()` below); each starts its own mock
upstream and gateway and stops them at the end.
"""

from __future__ import annotations

import subprocess
import tempfile
from typing import Callable

# Upstream kind -> (the path its API root adds to the mock's address, an upstream model).
UPSTREAMS = {
    "openai": ("/v1", "gpt-4o-mini"),
    "anthropic": ("", "claude-sonnet-4-5"),
    "gemini": ("/v1beta", "gemini-2.0-flash"),
}

WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather of a city",
    "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]},
}


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def _exercise(client, model: str) -> None:
    """Plain, streamed, a tool over two turns, retrieve, input items, delete."""
    # Plain.
    resp = client.responses.create(model=model, instructions="Answer briefly.", input="Hello Responses")
    _check(resp.object == "response" and resp.status == "completed", f"plain: {resp!r}")
    _check("Hello Responses" in resp.output_text, f"plain text: {resp.output_text!r}")
    _check(resp.model == model, f"model {resp.model!r}")
    _check(resp.usage is not None and resp.usage.output_tokens > 0, f"usage {resp.usage!r}")
    _check(resp.usage.total_tokens == resp.usage.input_tokens + resp.usage.output_tokens, f"usage {resp.usage!r}")

    # Streamed, as raw events.
    events = list(client.responses.create(model=model, input="Stream Responses please", stream=True))
    kinds = [e.type for e in events]
    _check(kinds[:2] == ["response.created", "response.in_progress"], f"stream starts {kinds[:3]}")
    _check(kinds[-1] == "response.completed", f"stream ends {kinds[-3:]}")
    _check([e.sequence_number for e in events] == list(range(len(events))), "sequence numbers")
    streamed = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    final = events[-1].response
    _check(streamed == final.output_text and "Stream Responses please" in streamed, f"streamed {streamed!r}")

    # Streamed, through the SDK's accumulating helper.
    with client.responses.stream(model=model, input="Helper stream") as stream:
        helper_text = "".join(e.delta for e in stream if e.type == "response.output_text.delta")
        helper_final = stream.get_final_response()
    _check(helper_text == helper_final.output_text and "Helper stream" in helper_text, f"helper {helper_text!r}")

    # A function tool over two turns.
    first = client.responses.create(model=model, input="please call tool for the weather", tools=[WEATHER_TOOL])
    calls = [item for item in first.output if item.type == "function_call"]
    _check(len(calls) == 1 and calls[0].name == "get_weather", f"tool call: {first.output!r}")
    _check(isinstance(calls[0].arguments, str), f"arguments {calls[0].arguments!r}")
    second = client.responses.create(
        model=model,
        previous_response_id=first.id,
        tools=[WEATHER_TOOL],
        input=[{"type": "function_call_output", "call_id": calls[0].call_id, "output": '{"temperature": 21}'}],
    )
    _check(second.status == "completed" and second.output_text != "", f"second turn: {second.output!r}")
    _check(second.previous_response_id == first.id, f"previous {second.previous_response_id!r}")

    # The same tool call, streamed.
    with client.responses.stream(model=model, input="call tool now", tools=[WEATHER_TOOL]) as stream:
        arg_deltas = "".join(e.delta for e in stream if e.type == "response.function_call_arguments.delta")
        streamed_call = stream.get_final_response().output[-1]
    _check(streamed_call.type == "function_call" and streamed_call.arguments == arg_deltas, f"{streamed_call!r}")

    # Stored: retrieve, list the input items, delete.
    got = client.responses.retrieve(resp.id)
    _check(got.id == resp.id and got.output_text == resp.output_text, f"retrieved {got!r}")
    items = list(client.responses.input_items.list(second.id))
    _check([i.type for i in items] == ["function_call_output"], f"input items {items!r}")
    client.responses.delete(resp.id)
    import openai

    try:
        client.responses.retrieve(resp.id)
    except openai.NotFoundError:
        pass
    else:
        raise AssertionError("a deleted response was still retrieved")


def tests(gateway_cls, listen_re, demo_key: str) -> list[Callable]:
    """One test per upstream kind, each against a gateway of its own."""

    def make(vendor: str) -> Callable:
        root, upstream_model = UPSTREAMS[vendor]

        def test(ctx) -> None:
            _check(ctx.mock_upstream_bin is not None, "MOCK_UPSTREAM_BIN is not set")
            mock = subprocess.Popen(
                [ctx.mock_upstream_bin, "--vendor", vendor], stdout=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL
            )
            gateway = None
            try:
                assert mock.stdout is not None
                match = listen_re.search(mock.stdout.readline())
                _check(match is not None, "mock-upstream printed no address")
                with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as cfg:
                    cfg.write(
                        f'[providers.up]\nkind = "{vendor}"\nbase_url = "{match.group(1)}{root}"\napi_key = "sk-mock"\n'
                        f'[models.resp-{vendor}]\nprovider = "up"\nupstream_model = "{upstream_model}"\n'
                    )
                gateway = gateway_cls(
                    ctx.gateway_bin,
                    ["--demo", "--listen", "127.0.0.1:0", "--config", cfg.name],
                    {"GATEWAY_DEMO_KEY": demo_key},
                )
                _exercise(ctx.openai(gateway.start()), f"resp-{vendor}")
            finally:
                if gateway is not None:
                    gateway.stop()
                mock.terminate()
                mock.wait(timeout=10)

        test.__name__ = f"test_responses_api_through_{vendor}_upstream"
        return test

    return [make(vendor) for vendor in UPSTREAMS]
