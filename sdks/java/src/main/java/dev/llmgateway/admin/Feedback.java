package dev.llmgateway.admin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgateway.internal.ApiRequest;
import dev.llmgateway.internal.Json;
import dev.llmgateway.internal.Transport;
import dev.llmgateway.model.FeedbackRecord;
import dev.llmgateway.model.FeedbackSummaryRow;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Feedback on calls: {@code POST /v1/feedback} (a caller rates one of its own calls by its
 * {@code x-request-id}, with a gateway API key; another tenant's call is a 404) and, for
 * operators with {@code read_usage}, {@code GET /admin/v1/feedback} and
 * {@code GET /admin/v1/feedback/summary} (aggregates per model, deployment and task type).
 */
public final class Feedback {
    private final Transport transport;

    public Feedback(Transport transport) {
        this.transport = transport;
    }

    /** A score from 0 (bad) to 1 (good). */
    public FeedbackRecord give(String requestId, double score, List<String> tags, String comment) {
        return send(requestId, score, tags, comment);
    }

    /** A thumb: up is 1, down 0. */
    public FeedbackRecord thumb(String requestId, boolean up, List<String> tags, String comment) {
        return send(requestId, up ? "up" : "down", tags, comment);
    }

    private FeedbackRecord send(String requestId, Object score, List<String> tags, String comment) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("request_id", requestId);
        body.put("score", score);
        if (tags != null) {
            body.put("tags", tags);
        }
        if (comment != null) {
            body.put("comment", comment);
        }
        // Giving it again replaces it: safe to repeat after an ambiguous failure.
        return transport.send(ApiRequest.idempotentPost("/v1/feedback", body)).json(FeedbackRecord.class);
    }

    private static ApiRequest filtered(String path, FeedbackQuery q) {
        return ApiRequest.get(path)
                .query("tenant", q.tenant)
                .query("model", q.model)
                .query("provider", q.provider)
                .query("task", q.task)
                .query("from", q.from)
                .query("to", q.to);
    }

    /** Feedback given, newest first. */
    public List<FeedbackRecord> list(FeedbackQuery q) {
        JsonNode body = Json.tree(transport.send(filtered("/admin/v1/feedback", q).query("limit", q.limit)).body());
        List<FeedbackRecord> out = new ArrayList<>();
        body.path("data").forEach(node -> out.add(Json.convert(node, FeedbackRecord.class)));
        return List.copyOf(out);
    }

    /** Aggregates per the query's grouping. */
    public FeedbackSummary summary(FeedbackQuery q) {
        JsonNode body = Json.tree(
                transport.send(filtered("/admin/v1/feedback/summary", q).query("group_by", q.groupByWire())).body());
        List<FeedbackSummaryRow> rows = new ArrayList<>();
        body.path("data").forEach(node -> rows.add(Json.convert(node, FeedbackSummaryRow.class)));
        List<String> groupBy = new ArrayList<>();
        body.path("group_by").forEach(node -> groupBy.add(node.asText()));
        return new FeedbackSummary(List.copyOf(groupBy), List.copyOf(rows));
    }
}
