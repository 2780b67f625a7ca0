"""Feedback on calls against the real gateway: a caller rates its own call, another tenant's
request id is not found, bad fields are refused, and operators list and summarise it."""

from __future__ import annotations

import pytest
from conftest import Running, eventually, unique

from llm_gateway import BadRequestError, FeedbackRecord, Gateway, NotFoundError, gateway_metadata

HELLO = [{"role": "user", "content": "Tell me something nice about otters, please."}]


def test_feedback_round_trip(gateway: Running, admin: Gateway) -> None:
    tenant = admin.tenants.create(unique("fb")).id
    other = admin.tenants.create(unique("fb-other")).id
    key = admin.keys.create(tenant, "rater")
    stranger = admin.keys.create(other, "stranger")
    with Gateway(gateway.url, key.secret, max_retries=0) as app:
        with app.openai(max_retries=0) as client:
            raw = client.chat.completions.with_raw_response.create(model="demo", messages=HELLO)
        request_id = gateway_metadata(raw).request_id
        assert request_id

        def rated() -> bool:
            try:
                app.feedback.give(request_id, "up", tags=["nice"], comment="lovely")
                return True
            except NotFoundError:  # the usage record is written in a batch, shortly after
                return False

        assert eventually(rated), "the call's usage record never showed up"
        record = app.feedback.give(request_id, 0.25, tags=["meh", "meh"])
        assert isinstance(record, FeedbackRecord)
        assert record.score == 0.25 and record.tags == ["meh"] and record.model == "demo"
        assert record.quality is not None and 0.0 <= record.quality <= 1.0
        with pytest.raises(BadRequestError) as err:
            app.feedback.give(request_id, 1.5)
        assert err.value.param == "score"
        with pytest.raises(NotFoundError):
            app.feedback.give("no-such-request", "down")
    with Gateway(gateway.url, stranger.secret, max_retries=0) as outsider:
        with pytest.raises(NotFoundError):
            outsider.feedback.give(request_id, "down")

    (listed,) = admin.feedback.list(tenant=tenant)
    assert listed.request_id == request_id and listed.score == 0.25 and listed.comment is None
    summary = admin.feedback.summary(tenant=tenant, group_by=["model", "deployment"])
    assert summary.group_by == ["model", "deployment"]
    (row,) = summary.rows
    assert row.model == "demo" and row.count == 1 and row.negative == 1 and row.avg_score == 0.25
    assert admin.feedback.list(tenant=tenant, model="nope") == []
    report = admin.usage.report(tenant=tenant, group_by="model")
    assert report.rows[0].scored_requests >= 1 and report.rows[0].avg_quality is not None
