"""Webhooks against the real gateway: every admin operation (sync and async), and deliveries
the gateway really signed, received on 127.0.0.1 and checked with ``verify_webhook`` (before
and during a secret rotation); plus the Standard Webhooks specification's published example."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterator, List, Tuple

import pytest
from conftest import Running, eventually, unique

from llm_gateway import (
    AsyncGateway,
    BadRequestError,
    Gateway,
    NotFoundError,
    WebhookVerificationError,
    sign_webhook,
    verify_webhook,
)

Received = Tuple[Dict[str, str], bytes]


class Receiver:
    """An http server on 127.0.0.1 that records every request and answers 204."""

    def __init__(self) -> None:
        self.received: List[Received] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                received.append((dict(self.headers.items()), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def wait_for(self, event_type: str, n: int = 1) -> List[Received]:
        def matching() -> List[Received]:
            return [r for r in list(self.received) if json.loads(r[1])["type"] == event_type]

        assert eventually(lambda: len(matching()) >= n), f"got {len(matching())} of {n} {event_type} deliveries"
        return matching()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    try:
        yield r
    finally:
        r.close()


def _header(headers: Dict[str, str], name: str) -> str:
    return next(v for k, v in headers.items() if k.lower() == name)


def test_endpoint_life_cycle_signed_deliveries_rotation_and_redelivery(
    webhook_gateway: Running, receiver: Receiver
) -> None:
    with Gateway(webhook_gateway.url, webhook_gateway.admin_token, max_retries=0) as admin:
        tenant = admin.tenants.create(unique("hooks")).id
        endpoint = admin.webhooks.create(tenant, receiver.url("/hook"), ["key.created", "key.revoked"], description="ops")
        secret = endpoint["secret"]
        assert secret.startswith("whsec_") and endpoint["tenant"] == tenant
        assert admin.webhooks.get(endpoint["id"]).get("secret") is None, "the secret is shown only once"
        assert [e["id"] for e in admin.webhooks.list(tenant)] == [endpoint["id"]]

        # A key.created event, delivered and signed: the helper verifies it with the secret.
        key = admin.keys.create(tenant, "hooked")
        headers, body = receiver.wait_for("key.created")[0]
        payload = verify_webhook(secret, headers, body)
        assert payload["type"] == "key.created" and payload["data"]["id"] == key.id
        assert key.secret.encode() not in body, "never the key's secret"
        with pytest.raises(WebhookVerificationError):
            verify_webhook(secret, headers, body.replace(key.id.encode(), b"key_other"))
        other = admin.webhooks.create(tenant, receiver.url("/other"), ["batch.completed"])["secret"]
        with pytest.raises(WebhookVerificationError):
            verify_webhook(other, headers, body)

        # The delivery log shows it, with its attempt.
        assert eventually(lambda: any(d["status"] == "succeeded" for d in admin.webhooks.deliveries(endpoint["id"])))
        delivered = next(d for d in admin.webhooks.deliveries(endpoint["id"]) if d["event_type"] == "key.created")
        assert delivered["id"] == _header(headers, "webhook-id")
        assert delivered["log"][0]["status_code"] == 204 and delivered["log"][0]["succeeded"] is True

        updated = admin.webhooks.update(endpoint["id"], events=["key.revoked"], description="revocations")
        assert updated["events"] == ["key.revoked"] and updated["description"] == "revocations"
        with pytest.raises(ValueError):
            admin.webhooks.update(endpoint["id"])

        # Rotation: a new secret; while the old one still signs, deliveries carry both.
        rotated = admin.webhooks.rotate_secret(endpoint["id"])
        assert rotated["secret"].startswith("whsec_") and rotated["secret"] != secret
        assert rotated["previous_secret_expires_at"], "the old secret signs for the overlap"
        admin.keys.revoke(key.id)
        rheaders, rbody = receiver.wait_for("key.revoked")[0]
        assert len(_header(rheaders, "webhook-signature").split(" ")) == 2
        assert verify_webhook(rotated["secret"], rheaders, rbody)["type"] == "key.revoked"
        assert verify_webhook(secret, rheaders, rbody)["type"] == "key.revoked"
        assert verify_webhook([other, rotated["secret"]], rheaders, rbody)["type"] == "key.revoked"

        # Manual redelivery: the same webhook-id again.
        again = admin.webhooks.redeliver(delivered["id"])
        assert again["id"] == delivered["id"] and again["status"] == "pending"
        second = receiver.wait_for("key.created", 2)[1]
        assert _header(second[0], "webhook-id") == delivered["id"]
        verify_webhook(rotated["secret"], *second)

        paged = [d["id"] for d in admin.webhooks.iter_deliveries(endpoint["id"], page_size=1)]
        assert paged == [d["id"] for d in admin.webhooks.deliveries(endpoint["id"], limit=100)] and len(paged) == 2

        assert admin.webhooks.update(endpoint["id"], enabled=False)["enabled"] is False
        with pytest.raises(BadRequestError) as bad:
            admin.webhooks.deliveries(endpoint["id"], limit=0)
        assert bad.value.param == "limit"
        with pytest.raises(BadRequestError):
            admin.webhooks.create(tenant, "http://10.0.0.1/hook", ["key.created"])

        async def async_views() -> None:
            async with AsyncGateway(webhook_gateway.url, webhook_gateway.admin_token, max_retries=0) as client:
                assert (await client.webhooks.get(endpoint["id"]))["enabled"] is False
                assert endpoint["id"] in [e["id"] for e in await client.webhooks.list(tenant)]
                assert [d["id"] async for d in client.webhooks.iter_deliveries(endpoint["id"], page_size=1)] == paged
                assert (await client.webhooks.rotate_secret(endpoint["id"]))["secret"].startswith("whsec_")
                assert (await client.webhooks.delete(endpoint["id"]))["deleted"] is True
                with pytest.raises(NotFoundError):
                    await client.webhooks.get(endpoint["id"])

        asyncio.run(async_views())
        with pytest.raises(NotFoundError):
            admin.webhooks.redeliver("msg_missing")


# The published example of the Standard Webhooks specification.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'
SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def _headers(signature: str = SIGNATURE, timestamp: str = str(TIMESTAMP), msg_id: str = MSG_ID) -> Dict[str, str]:
    return {"Webhook-Id": msg_id, "webhook-timestamp": timestamp, "WEBHOOK-SIGNATURE": signature}


def test_the_specification_example_signs_and_verifies_as_published() -> None:
    assert sign_webhook(SECRET, MSG_ID, TIMESTAMP, BODY) == SIGNATURE
    assert verify_webhook(SECRET, _headers(), BODY, now=TIMESTAMP) == {"test": 2432232314}
    assert verify_webhook(SECRET, list(_headers().items()), BODY.decode(), now=TIMESTAMP) == {"test": 2432232314}
    assert verify_webhook(SECRET[len("whsec_"):], _headers(), BODY, now=TIMESTAMP) == {"test": 2432232314}


def test_any_valid_signature_of_several_verifies() -> None:
    other = "whsec_" + base64.b64encode(b"another-secret-of-24-bytes!!").decode()
    other_signature = sign_webhook(other, MSG_ID, TIMESTAMP, BODY)
    assert verify_webhook(SECRET, _headers(f"v2,abc {other_signature} {SIGNATURE}"), BODY, now=TIMESTAMP)
    assert verify_webhook([other, SECRET], _headers(), BODY, now=TIMESTAMP)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(SECRET, _headers(f"{other_signature} v2,{SIGNATURE[3:]}"), BODY, now=TIMESTAMP)


@pytest.mark.parametrize(
    "headers, body, now",
    [
        (_headers(), b'{"test": 2432232315}', TIMESTAMP),
        (_headers(msg_id="msg_other"), BODY, TIMESTAMP),
        (_headers(timestamp=str(TIMESTAMP + 1)), BODY, TIMESTAMP),
        (_headers(), BODY, TIMESTAMP + 301),
        (_headers(), BODY, TIMESTAMP - 301),
        (_headers(timestamp="16142653x0"), BODY, TIMESTAMP),
        (_headers("v1,not base64!"), BODY, TIMESTAMP),
        (_headers("v1"), BODY, TIMESTAMP),
        ({"webhook-id": MSG_ID, "webhook-timestamp": str(TIMESTAMP)}, BODY, TIMESTAMP),
    ],
)
def test_tampering_staleness_and_malformed_headers_are_refused(headers: Dict[str, str], body: bytes, now: int) -> None:
    with pytest.raises(WebhookVerificationError):
        verify_webhook(SECRET, headers, body, now=now)


def test_tolerance_and_bad_secrets() -> None:
    assert verify_webhook(SECRET, _headers(), BODY, now=TIMESTAMP + 299)
    assert verify_webhook(SECRET, _headers(), BODY, now=TIMESTAMP + 3600, tolerance=3600)
    with pytest.raises(ValueError):
        verify_webhook("whsec_not base64!", _headers(), BODY, now=TIMESTAMP)
    with pytest.raises(ValueError):
        verify_webhook([], _headers(), BODY, now=TIMESTAMP)
