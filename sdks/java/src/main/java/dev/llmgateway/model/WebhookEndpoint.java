package dev.llmgateway.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * A webhook endpoint of a tenant (docs/webhooks.md). {@code secret} ({@code whsec_...}) is set
 * only in the answers to create and rotate-secret: it is shown once. {@code
 * previousSecretExpiresAt} says until when the secret before the last rotation still signs.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record WebhookEndpoint(
        String id,
        String tenant,
        String url,
        String description,
        List<String> events,
        boolean enabled,
        @JsonProperty("created_at") String createdAt,
        @JsonProperty("updated_at") String updatedAt,
        @JsonProperty("previous_secret_expires_at") String previousSecretExpiresAt,
        String secret) {}
