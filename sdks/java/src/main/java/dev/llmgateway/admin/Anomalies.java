package dev.llmgateway.admin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgateway.internal.ApiRequest;
import dev.llmgateway.internal.Json;
import dev.llmgateway.internal.Transport;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code /admin/v1/anomalies}: the anomalies behavioural anomaly detection raised on the instance
 * that answers (the last 512, newest first; docs/security.md). An admin sees every tenant's and
 * the gateway-wide ones (client networks, failed authentications); anyone else with
 * {@code read_keys} sees their own tenant's. Answers are the gateway's JSON ({@code detected_at},
 * {@code kind}, {@code id}, {@code tenant}, {@code scope}, {@code score}, {@code action},
 * {@code signals}). A suspended key is resumed with {@link Keys#resume}.
 */
public final class Anomalies {
    private static final String PATH = "/admin/v1/anomalies";
    private final Transport transport;

    public Anomalies(Transport transport) {
        this.transport = transport;
    }

    /** The recent anomalies the caller may see, newest first (at most 100). */
    public List<JsonNode> list() {
        return list(null, null);
    }

    /** One tenant's (or, with {@code null}, every one the caller may see), at most {@code limit} (1-512). */
    public List<JsonNode> list(String tenant, Integer limit) {
        JsonNode data = Json.tree(transport.send(ApiRequest.get(PATH).query("tenant", tenant).query("limit", limit))
                .body()).path("data");
        List<JsonNode> out = new ArrayList<>();
        data.forEach(out::add);
        return out;
    }
}
