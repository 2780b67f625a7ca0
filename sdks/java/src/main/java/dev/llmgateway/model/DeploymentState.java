package dev.llmgateway.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * One deployment of one model as the router sees it now: its circuit ({@code closed}, {@code
 * open}, {@code half_open}), latency and load.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record DeploymentState(
        String model,
        String provider,
        @JsonProperty("upstream_model") String upstreamModel,
        String region,
        int priority,
        int weight,
        String circuit,
        @JsonProperty("consecutive_failures") int consecutiveFailures,
        @JsonProperty("retry_in_ms") Long retryInMs,
        @JsonProperty("ewma_latency_ms") Double ewmaLatencyMs,
        @JsonProperty("in_flight") long inFlight,
        @JsonProperty("concurrency_limit") Integer concurrencyLimit,
        long requests,
        long failures) {}
