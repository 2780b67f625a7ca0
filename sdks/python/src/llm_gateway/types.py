"""The gateway's records as typed, immutable dataclasses.

Each has ``from_dict`` (the gateway's JSON) and keeps the whole JSON object in ``raw``, so a
field a newer gateway adds is readable before the SDK names it. Times are timezone-aware
``datetime`` objects in UTC.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from typing import Any, Dict, Iterator, List, Mapping, Optional

from .metadata import ResponseMetadata

__all__ = [
    "Limits",
    "Tenant",
    "ApiKey",
    "CreatedKey",
    "Deleted",
    "UsageRow",
    "UsageReport",
    "AuditRecord",
    "AuditPage",
    "AuditVerification",
    "Deployment",
    "GuardrailFinding",
    "GuardrailVerdict",
    "CacheInvalidation",
    "QueryResult",
    "Model",
    "KEY_ROLES",
]

#: The roles a key can hold.
KEY_ROLES = ("admin", "tenant_admin", "developer", "viewer", "auditor")

Json = Dict[str, Any]


def parse_time(value: Any) -> Optional[datetime]:
    """An RFC 3339 time of the gateway (``2024-05-01T12:00:00.000Z``) as an aware datetime."""
    if not isinstance(value, str) or not value:
        return None
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _list(value: Any) -> Optional[List[str]]:
    return [str(v) for v in value] if isinstance(value, list) else None


@dataclass(frozen=True)
class Limits:
    """Rate, token, concurrency and spend limits of a tenant or key; ``None`` = no limit here."""

    rps: Optional[int] = None
    rpm: Optional[int] = None
    rpd: Optional[int] = None
    tpm: Optional[int] = None
    tpd: Optional[int] = None
    max_concurrency: Optional[int] = None
    budget_usd_daily: Optional[float] = None
    budget_usd_monthly: Optional[float] = None

    def to_dict(self) -> Json:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}

    @classmethod
    def from_dict(cls, data: Any) -> "Limits":
        data = data if isinstance(data, Mapping) else {}
        return cls(**{f.name: data.get(f.name) for f in fields(cls)})


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str
    enabled: bool
    allowed_models: Optional[List[str]]
    allowed_regions: Optional[List[str]]
    limits: Limits
    created_at: Optional[datetime]
    raw: Json = field(repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Json) -> "Tenant":
        return cls(
            id=str(data["id"]),
            name=str(data.get("name", data["id"])),
            enabled=bool(data.get("enabled", True)),
            allowed_models=_list(data.get("allowed_models")),
            allowed_regions=_list(data.get("allowed_regions")),
            limits=Limits.from_dict(data.get("limits")),
            created_at=parse_time(data.get("created_at")),
            raw=data,
        )


@dataclass(frozen=True)
class ApiKey:
    """An API key as the gateway shows it: never its secret or hash."""

    id: str
    tenant: str
    name: str
    prefix: str
    status: str
    """``active``, ``disabled``, ``expired`` or ``revoked``."""
    roles: List[str]
    allowed_models: Optional[List[str]]
    limits: Limits
    expires_at: Optional[datetime]
    metadata: Json
    enabled: bool
    created_at: Optional[datetime]
    last_used_at: Optional[datetime]
    revoked_at: Optional[datetime]
    raw: Json = field(repr=False, compare=False)

    @staticmethod
    def _fields(data: Json) -> Json:
        return dict(
            id=str(data["id"]),
            tenant=str(data.get("tenant", "")),
            name=str(data.get("name", "")),
            prefix=str(data.get("prefix", "")),
            status=str(data.get("status", "")),
            roles=_list(data.get("roles")) or [],
            allowed_models=_list(data.get("allowed_models")),
            limits=Limits.from_dict(data.get("limits")),
            expires_at=parse_time(data.get("expires_at")),
            metadata=dict(data.get("metadata") or {}),
            enabled=bool(data.get("enabled", True)),
            created_at=parse_time(data.get("created_at")),
            last_used_at=parse_time(data.get("last_used_at")),
            revoked_at=parse_time(data.get("revoked_at")),
            raw=data,
        )

    @classmethod
    def from_dict(cls, data: Json) -> "ApiKey":
        public = {k: v for k, v in data.items() if k != "secret"}
        return cls(**cls._fields(public))


@dataclass(frozen=True)
class CreatedKey(ApiKey):
    """A key just created or rotated: the only time its ``secret`` is shown. Store it now."""

    secret: str = field(default="", repr=False)
    replaces: Optional[str] = None
    """For a rotation: the id of the key it replaced (now revoked)."""

    @classmethod
    def from_dict(cls, data: Json) -> "CreatedKey":
        public = {k: v for k, v in data.items() if k != "secret"}
        return cls(
            **cls._fields(public),
            secret=str(data.get("secret", "")),
            replaces=data.get("replaces"),
        )


@dataclass(frozen=True)
class Deleted:
    id: str
    deleted: bool

    @classmethod
    def from_dict(cls, data: Json) -> "Deleted":
        return cls(id=str(data.get("id", "")), deleted=bool(data.get("deleted", False)))


#: Usage totals, in CSV column order after the grouped fields.
USAGE_TOTALS = (
    "requests",
    "errors",
    "cache_hits",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cost_usd",
    "unpriced_requests",
    "guardrail_findings",
)
USAGE_DIMENSIONS = ("tenant", "key", "model", "day", "task")


@dataclass(frozen=True)
class UsageRow:
    """One group of a usage report: the grouped fields (others ``None``) and the totals."""

    tenant: Optional[str]
    key: Optional[str]
    model: Optional[str]
    day: Optional[str]
    """``YYYY-MM-DD`` (UTC) when grouped by day."""
    requests: int
    errors: int
    cache_hits: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost_usd: float
    unpriced_requests: int
    task: Optional[str] = None
    """The classifier's task type when grouped by task."""
    scored_requests: int = 0
    """Calls whose answer got a heuristic quality score."""
    avg_quality: Optional[float] = None
    """Their mean quality score (0..1)."""
    guardrail_findings: int = 0
    """Guardrail findings (flags, redactions, blocks) over the calls' inputs and outputs."""
    judged_requests: int = 0
    """Calls the LLM judge scored (a sampled share)."""
    avg_judge_score: Optional[float] = None
    """Their mean judge score (0..1)."""
    raw: Json = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Json) -> "UsageRow":
        return cls(
            tenant=data.get("tenant"),
            key=data.get("key"),
            model=data.get("model"),
            day=data.get("day"),
            requests=int(data.get("requests") or 0),
            errors=int(data.get("errors") or 0),
            cache_hits=int(data.get("cache_hits") or 0),
            prompt_tokens=int(data.get("prompt_tokens") or 0),
            completion_tokens=int(data.get("completion_tokens") or 0),
            total_tokens=int(data.get("total_tokens") or 0),
            cost_usd=float(data.get("cost_usd") or 0.0),
            unpriced_requests=int(data.get("unpriced_requests") or 0),
            task=data.get("task"),
            scored_requests=int(data.get("scored_requests") or 0),
            avg_quality=float(data["avg_quality"]) if data.get("avg_quality") is not None else None,
            guardrail_findings=int(data.get("guardrail_findings") or 0),
            judged_requests=int(data.get("judged_requests") or 0),
            avg_judge_score=(
                float(data["avg_judge_score"]) if data.get("avg_judge_score") is not None else None
            ),
            raw=data,
        )


@dataclass(frozen=True)
class UsageReport:
    """Aggregated usage: one row per group (one row in all without ``group_by``)."""

    rows: List[UsageRow]
    group_by: List[str]

    def __iter__(self) -> Iterator[UsageRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    @classmethod
    def from_dict(cls, data: Json) -> "UsageReport":
        return cls(
            rows=[UsageRow.from_dict(r) for r in data.get("data") or []],
            group_by=_list(data.get("group_by")) or [],
        )

    def to_csv(self) -> str:
        """CSV with a header line: the grouped fields, then the totals (as ``gatewayctl usage --csv``)."""
        dims = [d for d in self.group_by if d in USAGE_DIMENSIONS]
        dims = ["key" if d == "subject" else d for d in dims]
        columns = list(dict.fromkeys(dims)) + list(USAGE_TOTALS)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in self.rows:
            writer.writerow(["" if row.raw.get(c) is None else row.raw.get(c) for c in columns])
        return out.getvalue()


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    at: Optional[datetime]
    tenant: Optional[str]
    actor: str
    action: str
    """``tenant.create``, ``key.rotate``, ``cache.invalidate``, ..."""
    target: Optional[str]
    outcome: str
    """``success``, ``denied`` or ``failure``."""
    ip: Optional[str]
    details: Json
    prev_hash: Optional[str]
    hash: Optional[str]
    raw: Json = field(repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Json) -> "AuditRecord":
        return cls(
            seq=int(data["seq"]),
            at=parse_time(data.get("at")),
            tenant=data.get("tenant"),
            actor=str(data.get("actor", "")),
            action=str(data.get("action", "")),
            target=data.get("target"),
            outcome=str(data.get("outcome", "")),
            ip=data.get("ip"),
            details=dict(data.get("details") or {}),
            prev_hash=data.get("prev_hash"),
            hash=data.get("hash"),
            raw=data,
        )


@dataclass(frozen=True)
class AuditPage:
    """One page of audit records; ``next_after`` is the ``after`` of the next page, if any."""

    records: List[AuditRecord]
    next_after: Optional[int]

    def __iter__(self) -> Iterator[AuditRecord]:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)

    @classmethod
    def from_dict(cls, data: Json) -> "AuditPage":
        nxt = data.get("next_after")
        return cls(
            records=[AuditRecord.from_dict(r) for r in data.get("data") or []],
            next_after=int(nxt) if nxt is not None else None,
        )


@dataclass(frozen=True)
class AuditVerification:
    checked: int
    intact: bool
    first_broken_seq: Optional[int]

    @classmethod
    def from_dict(cls, data: Json) -> "AuditVerification":
        broken = data.get("first_broken_seq")
        return cls(
            checked=int(data.get("checked") or 0),
            intact=bool(data.get("intact")),
            first_broken_seq=int(broken) if broken is not None else None,
        )


@dataclass(frozen=True)
class Deployment:
    """One deployment of a public model as the router sees it now."""

    model: str
    provider: str
    upstream_model: str
    region: Optional[str]
    priority: int
    weight: int
    circuit: str
    """``closed``, ``open`` or ``half_open``."""
    consecutive_failures: int
    retry_in_ms: Optional[int]
    ewma_latency_ms: Optional[float]
    in_flight: int
    concurrency_limit: Optional[int]
    requests: int
    failures: int
    raw: Json = field(repr=False, compare=False)

    @property
    def available(self) -> bool:
        """Whether calls can go to it now (circuit closed, or ready for a probe)."""
        return self.circuit != "open" or self.retry_in_ms == 0

    @classmethod
    def from_dict(cls, data: Json) -> "Deployment":
        return cls(
            model=str(data.get("model", "")),
            provider=str(data.get("provider", "")),
            upstream_model=str(data.get("upstream_model", "")),
            region=data.get("region"),
            priority=int(data.get("priority") or 0),
            weight=int(data.get("weight") or 0),
            circuit=str(data.get("circuit", "")),
            consecutive_failures=int(data.get("consecutive_failures") or 0),
            retry_in_ms=data.get("retry_in_ms"),
            ewma_latency_ms=data.get("ewma_latency_ms"),
            in_flight=int(data.get("in_flight") or 0),
            concurrency_limit=data.get("concurrency_limit"),
            requests=int(data.get("requests") or 0),
            failures=int(data.get("failures") or 0),
            raw=data,
        )


@dataclass(frozen=True)
class GuardrailFinding:
    guardrail: str
    category: str
    rule: str
    score: float
    start: int
    """Byte offsets of the finding in the UTF-8 text."""
    end: int
    action: str

    @classmethod
    def from_dict(cls, data: Json) -> "GuardrailFinding":
        return cls(
            guardrail=str(data.get("guardrail", "")),
            category=str(data.get("category", "")),
            rule=str(data.get("rule", "")),
            score=float(data.get("score") or 0.0),
            start=int(data.get("start") or 0),
            end=int(data.get("end") or 0),
            action=str(data.get("action", "")),
        )


@dataclass(frozen=True)
class GuardrailVerdict:
    """What the tenant's guardrails decide about a text: ``allow``, ``flag``, ``redact`` or ``block``."""

    flagged: bool
    action: str
    findings: List[GuardrailFinding]
    redacted_text: Optional[str]
    """Set only when the action is ``redact``."""
    metadata: ResponseMetadata = field(repr=False, compare=False)

    @property
    def blocked(self) -> bool:
        return self.action == "block"

    @classmethod
    def from_dict(cls, data: Json, metadata: ResponseMetadata) -> "GuardrailVerdict":
        return cls(
            flagged=bool(data.get("flagged")),
            action=str(data.get("action", "")),
            findings=[GuardrailFinding.from_dict(f) for f in data.get("findings") or []],
            redacted_text=data.get("redacted_text"),
            metadata=metadata,
        )


@dataclass(frozen=True)
class CacheInvalidation:
    scope: Json
    removed: int

    @classmethod
    def from_dict(cls, data: Json) -> "CacheInvalidation":
        return cls(scope=dict(data.get("scope") or {}), removed=int(data.get("removed") or 0))


@dataclass(frozen=True)
class QueryResult:
    """The answer of the simple ``POST /query`` API."""

    response: str
    provider: str
    model: str
    latency_ms: float
    cascade_path: List[str]
    usage: Json
    cost_estimate_usd: Optional[float]
    metadata: ResponseMetadata = field(repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Json, metadata: ResponseMetadata) -> "QueryResult":
        cost = data.get("cost_estimate_usd")
        return cls(
            response=str(data.get("response", "")),
            provider=str(data.get("provider", "")),
            model=str(data.get("model", "")),
            latency_ms=float(data.get("latency_ms") or 0.0),
            cascade_path=_list(data.get("cascade_path")) or [],
            usage=dict(data.get("usage") or {}),
            cost_estimate_usd=float(cost) if cost is not None else None,
            metadata=metadata,
        )


@dataclass(frozen=True)
class Model:
    """A model the caller may use, by its public name at the gateway."""

    id: str
    owned_by: Optional[str]
    created: Optional[int]
    raw: Json = field(repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Json) -> "Model":
        created = data.get("created")
        return cls(
            id=str(data["id"]),
            owned_by=data.get("owned_by"),
            created=int(created) if isinstance(created, (int, float)) else None,
            raw=data,
        )


@dataclass(frozen=True)
class Caller:
    """The admin credential's identity (``GET /admin/v1/me``)."""

    subject: str
    tenant: Optional[str]
    """``None`` for the bootstrap admin, which may act on every tenant."""
    roles: List[str]
    permissions: List[str]

    @classmethod
    def from_dict(cls, data: Json) -> "Caller":
        tenant = data.get("tenant")
        return cls(
            subject=str(data.get("subject", "")),
            tenant=None if tenant is None else str(tenant),
            roles=[str(r) for r in data.get("roles") or []],
            permissions=[str(p) for p in data.get("permissions") or []],
        )


@dataclass(frozen=True)
class RunningConfig:
    """The gateway's running configuration (``GET /admin/v1/config``), every secret redacted."""

    loaded_at: str
    text: str
    """The configuration as TOML."""

    @classmethod
    def from_dict(cls, data: Json) -> "RunningConfig":
        return cls(loaded_at=str(data.get("loaded_at", "")), text=str(data.get("text", "")))
