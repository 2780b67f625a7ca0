package dev.llmgateway.inference;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.Optional;

/**
 * What {@code GET /v1/async/{id}} answered: the job's {@code status}
 * ({@code x-gateway-async-status}); the job object while it waits or runs and once cancelled;
 * the call's answer ({@code body}: a chat completion, an Anthropic message, ...) once
 * completed; the answer's gateway metadata; and, while it waits, how long the gateway asks
 * to wait before the next look ({@code retry-after}).
 */
public record AsyncResult(String id, String status, Optional<AsyncJob> job, Optional<JsonNode> body,
        ResponseMetadata metadata, Optional<Duration> retryAfter) {

    /** Whether the call has its final answer (or was cancelled). */
    public boolean done() {
        return !status.equals("pending") && !status.equals("running");
    }
}
