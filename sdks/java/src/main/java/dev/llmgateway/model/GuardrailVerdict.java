package dev.llmgateway.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * The verdict of {@code POST /v1/guardrails/check}: {@code action} is {@code allow}, {@code
 * flag}, {@code redact} or {@code block}; {@code redactedText} is set when something was redacted.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record GuardrailVerdict(
        boolean flagged,
        String action,
        List<GuardrailFinding> findings,
        @JsonProperty("redacted_text") String redactedText) {

    public boolean blocked() {
        return "block".equals(action);
    }
}
