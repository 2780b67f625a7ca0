package dev.llmgateway.admin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgateway.internal.ApiRequest;
import dev.llmgateway.internal.Json;
import dev.llmgateway.internal.Transport;
import dev.llmgateway.model.UsageRow;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code GET /admin/v1/usage}: requests, errors, cache hits, tokens and cost, filtered and
 * grouped. The gateway answers a report whole (it is an aggregate, so it is small: one row per
 * combination of the grouped dimensions), hence no paging here; the audit log pages.
 */
public final class Usage {
    private final Transport transport;

    public Usage(Transport transport) {
        this.transport = transport;
    }

    public UsageReport report(UsageQuery q) {
        ApiRequest req = ApiRequest.get("/admin/v1/usage")
                .query("tenant", q.tenant)
                .query("key", q.key)
                .query("model", q.model)
                .query("from", q.from)
                .query("to", q.to)
                .query("group_by", q.groupByWire());
        JsonNode body = Json.tree(transport.send(req).body());
        List<UsageRow> rows = new ArrayList<>();
        body.path("data").forEach(node -> rows.add(Json.convert(node, UsageRow.class)));
        List<String> groupBy = new ArrayList<>();
        body.path("group_by").forEach(node -> groupBy.add(node.asText()));
        return new UsageReport(List.copyOf(groupBy), List.copyOf(rows));
    }

    /** The report as CSV text (see {@link UsageReport#writeCsv}). */
    public String csv(UsageQuery q) {
        return report(q).toCsv();
    }
}
