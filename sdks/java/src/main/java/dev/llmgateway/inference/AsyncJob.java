package dev.llmgateway.inference;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * The job object ({@code "object": "async.job"}) of an async call: its {@code status}
 * ({@code pending}, {@code running}, {@code completed}, {@code failed} or {@code cancelled}),
 * the model-call route it was sent to, unix-second times, whether it was sent again after an
 * instance stopped with it in flight, and its callback URL.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record AsyncJob(
        String id,
        String status,
        String route,
        @JsonProperty("created_at") long createdAt,
        @JsonProperty("completed_at") Long completedAt,
        boolean retried,
        @JsonProperty("callback_url") String callbackUrl) {}
