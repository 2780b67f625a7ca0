package dev.llmgateway.inference;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgateway.internal.ApiRequest;
import dev.llmgateway.internal.ApiResponse;
import dev.llmgateway.internal.Json;
import dev.llmgateway.internal.Transport;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code POST /query}: a prompt in, one answer out, through the same pipeline as every model
 * call. {@code prompt} is 1 to 4000 characters, {@code maxTokens} 1 to 2048 (default 256).
 */
public final class Query {
    private final Transport transport;

    public Query(Transport transport) {
        this.transport = transport;
    }

    public QueryResult ask(String prompt) {
        return ask(prompt, null, null);
    }

    /** {@code maxTokens} and {@code temperature} may be null (the gateway's defaults). */
    public QueryResult ask(String prompt, Integer maxTokens, Double temperature) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("prompt", prompt);
        if (maxTokens != null) {
            body.put("max_tokens", maxTokens);
        }
        if (temperature != null) {
            body.put("temperature", temperature);
        }
        ApiResponse resp = transport.send(ApiRequest.post("/query", body));
        JsonNode node = Json.tree(resp.body());
        List<String> path = new ArrayList<>();
        node.path("cascade_path").forEach(p -> path.add(p.asText()));
        JsonNode usage = node.path("usage");
        JsonNode cost = node.path("cost_estimate_usd");
        return new QueryResult(
                node.path("response").asText(""),
                node.path("provider").asText(null),
                node.path("model").asText(null),
                node.path("latency_ms").asDouble(),
                List.copyOf(path),
                new ChatResult.Usage(
                        usage.path("prompt_tokens").asLong(),
                        usage.path("completion_tokens").asLong(),
                        usage.path("total_tokens").asLong()),
                cost.isNumber() ? cost.asDouble() : null,
                ResponseMetadata.from(resp.headers(), resp.attempts()));
    }
}
