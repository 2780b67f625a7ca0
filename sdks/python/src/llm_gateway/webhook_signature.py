"""Standard Webhooks signatures, for the receiving side of the gateway's webhooks.

:func:`verify_webhook` checks that a delivery was signed with the endpoint's ``whsec_...``
secret and is fresh, then returns its payload (``{"type", "timestamp", "data"}``);
:func:`sign_webhook` computes a signature (for tests of a receiver).

Each delivery carries ``webhook-id``, ``webhook-timestamp`` (unix seconds) and
``webhook-signature``: space-separated ``v1,<base64 HMAC-SHA256>`` entries of
``"{id}.{timestamp}.{body}"``, keyed by the base64-decoded part of the secret (two entries
while a rotated-out secret still signs). Comparisons are constant-time
(:func:`hmac.compare_digest`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

__all__ = ["WEBHOOK_TOLERANCE_SECONDS", "WebhookVerificationError", "sign_webhook", "verify_webhook"]

#: The default accepted distance between ``webhook-timestamp`` and now, either way (replays).
WEBHOOK_TOLERANCE_SECONDS = 300
_PREFIX = "whsec_"
#: Signature entries of one header considered at most (bounds the work per request).
_MAX_SIGNATURES = 16
_SECONDS = re.compile(r"[0-9]{1,12}")
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


class WebhookVerificationError(Exception):
    """The delivery was not signed by the given secret(s), is too old or new, or is malformed."""


def _decode(text: str) -> Optional[bytes]:
    if len(text) % 4 != 0 or not _BASE64.fullmatch(text):
        return None
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _key(secret: str) -> bytes:
    key = _decode(secret[len(_PREFIX):] if secret.startswith(_PREFIX) else secret)
    if not key:
        raise ValueError("a webhook secret is 'whsec_' followed by base64")
    return key


def _mac(key: bytes, msg_id: str, timestamp: str, body: bytes) -> bytes:
    return hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()


def _header(headers: Union[Mapping[str, str], Iterable[Any]], name: str) -> Optional[str]:
    # A Mapping (dict, httpx.Headers, a framework's case-insensitive headers) or pairs.
    if isinstance(headers, Mapping):
        pairs: List[Tuple[Any, Any]] = list(headers.items())
    else:
        pairs = [(pair[0], pair[1]) for pair in headers]
    for key, value in pairs:
        if str(key).lower() == name:
            return str(value)
    return None


def _body(body: Union[bytes, bytearray, memoryview, str]) -> bytes:
    return body.encode() if isinstance(body, str) else bytes(body)


def sign_webhook(secret: str, msg_id: str, timestamp: int, body: Union[bytes, str]) -> str:
    """The ``webhook-signature`` entry (``v1,<base64>``) of a delivery signed with ``secret``."""
    mac = _mac(_key(secret), msg_id, str(int(timestamp)), _body(body))
    return "v1," + base64.b64encode(mac).decode()


def verify_webhook(
    secret: Union[str, Sequence[str]],
    headers: Union[Mapping[str, str], Iterable[Any]],
    body: Union[bytes, bytearray, memoryview, str],
    *,
    tolerance: int = WEBHOOK_TOLERANCE_SECONDS,
    now: Optional[float] = None,
) -> Dict[str, Any]:
    """Verify a delivery and return its payload; raise :class:`WebhookVerificationError`
    otherwise.

    ``body`` must be the raw request body exactly as received (not re-serialised JSON);
    ``headers`` a mapping (names in any case) or ``(name, value)`` pairs. ``secret`` may be
    several secrets (a receiver moving to a rotated one): any of them verifies.
    """
    secrets: List[str] = [secret] if isinstance(secret, str) else list(secret)
    if not secrets:
        raise ValueError("verify_webhook needs a secret")
    keys = [_key(s) for s in secrets]
    msg_id = _header(headers, "webhook-id")
    timestamp = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature")
    if not msg_id or timestamp is None or signatures is None:
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature")
    if not _SECONDS.fullmatch(timestamp):
        raise WebhookVerificationError("webhook-timestamp is not unix seconds")
    current = int(time.time() if now is None else now)
    sent = int(timestamp)
    if sent < current - tolerance:
        raise WebhookVerificationError("the delivery is too old (webhook-timestamp)")
    if sent > current + tolerance:
        raise WebhookVerificationError("the delivery is from the future (webhook-timestamp)")
    given: List[bytes] = []
    for entry in signatures.split(" ")[:_MAX_SIGNATURES]:
        version, _, encoded = entry.partition(",")
        mac = _decode(encoded) if version == "v1" else None
        if mac is not None:
            given.append(mac)
    raw = _body(body)
    valid = False
    for key in keys:
        expected = _mac(key, msg_id, timestamp, raw)
        for mac in given:
            valid = hmac.compare_digest(expected, mac) or valid
    if not valid:
        raise WebhookVerificationError("no valid v1 signature for the given secret(s)")
    try:
        payload = json.loads(raw)
    except ValueError:
        raise WebhookVerificationError("the signed body is not JSON") from None
    if not isinstance(payload, dict):
        raise WebhookVerificationError("the signed body is not a JSON object")
    return payload
