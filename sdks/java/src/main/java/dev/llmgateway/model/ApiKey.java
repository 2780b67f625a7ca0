package dev.llmgateway.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * An API key as the admin API shows it: never its secret (see {@link CreatedKey}) nor its hash.
 * {@code status} is {@code active}, {@code disabled}, {@code expired} or {@code revoked}; times
 * are RFC 3339 strings in UTC, {@code null} when unset.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ApiKey(
        String id,
        String tenant,
        String name,
        String prefix,
        String status,
        List<String> roles,
        @JsonProperty("allowed_models") List<String> allowedModels,
        Limits limits,
        @JsonProperty("expires_at") String expiresAt,
        JsonNode metadata,
        boolean enabled,
        @JsonProperty("created_at") String createdAt,
        @JsonProperty("last_used_at") String lastUsedAt,
        @JsonProperty("revoked_at") String revokedAt) {

    public boolean isActive() {
        return "active".equals(status);
    }

    public Optional<Instant> expiresAtInstant() {
        return Optional.ofNullable(expiresAt).map(Instant::parse);
    }

    public Optional<Instant> revokedAtInstant() {
        return Optional.ofNullable(revokedAt).map(Instant::parse);
    }
}
