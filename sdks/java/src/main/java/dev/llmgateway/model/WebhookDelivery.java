package dev.llmgateway.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * One event on its way to a webhook endpoint, with its attempts. {@code id} is the {@code
 * webhook-id} header of every attempt; {@code status} is {@code pending}, {@code succeeded} or
 * {@code dead} (given up; redeliverable); {@code payload} is the body sent and signed ({@code
 * type}, {@code timestamp}, {@code data}).
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record WebhookDelivery(
        String id,
        @JsonProperty("endpoint_id") String endpointId,
        @JsonProperty("event_type") String eventType,
        String status,
        int attempts,
        @JsonProperty("last_status_code") Integer lastStatusCode,
        @JsonProperty("last_error") String lastError,
        @JsonProperty("next_attempt_at") String nextAttemptAt,
        JsonNode payload,
        @JsonProperty("created_at") String createdAt,
        List<WebhookAttempt> log) {}
