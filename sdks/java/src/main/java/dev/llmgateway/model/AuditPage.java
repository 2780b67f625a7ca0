package dev.llmgateway.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Optional;

/** One page of audit records; {@code nextAfter} is the cursor of the next page when this one is full. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record AuditPage(List<AuditRecord> data, @JsonProperty("next_after") Long nextAfter) {

    public Optional<Long> next() {
        return Optional.ofNullable(nextAfter);
    }
}
