package dev.llmgateway.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;
import java.util.List;

/** A tenant as the admin API shows it. {@code allowedModels}/{@code allowedRegions} null: all. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Tenant(
        String id,
        String name,
        boolean enabled,
        @JsonProperty("allowed_models") List<String> allowedModels,
        @JsonProperty("allowed_regions") List<String> allowedRegions,
        Limits limits,
        @JsonProperty("created_at") String createdAt) {

    public Instant createdAtInstant() {
        return Instant.parse(createdAt);
    }
}
