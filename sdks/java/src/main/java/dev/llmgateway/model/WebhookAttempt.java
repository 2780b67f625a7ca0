package dev.llmgateway.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

/** One attempt of a webhook delivery; {@code statusCode} is null when the receiver did not answer. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record WebhookAttempt(
        int attempt,
        String at,
        @JsonProperty("status_code") Integer statusCode,
        @JsonProperty("latency_ms") long latencyMs,
        boolean succeeded,
        String error) {}
