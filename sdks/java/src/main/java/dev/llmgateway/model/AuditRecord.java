package dev.llmgateway.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * One audit record: who ({@code actor}) did what ({@code action}, e.g. {@code key.revoke}) to
 * which {@code target}, with what {@code outcome} ({@code success}, {@code denied}, {@code
 * failure}); chained by {@code prevHash}/{@code hash}.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record AuditRecord(
        long seq,
        String at,
        String tenant,
        String actor,
        String action,
        String target,
        String outcome,
        String ip,
        JsonNode details,
        @JsonProperty("prev_hash") String prevHash,
        String hash) {}
