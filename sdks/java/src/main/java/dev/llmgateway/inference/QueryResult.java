package dev.llmgateway.inference;

import java.util.List;

/**
 * The answer of the simple {@code POST /query} API: the text, who answered (provider, model,
 * the deployments tried in order), how long it took, the token usage, the cost estimate when
 * the model is priced, and the gateway's {@link ResponseMetadata}.
 */
public record QueryResult(
        String response,
        String provider,
        String model,
        double latencyMs,
        List<String> cascadePath,
        ChatResult.Usage usage,
        Double costEstimateUsd,
        ResponseMetadata metadata) {}
