package dev.llmgateway.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/** One finding of a guardrail check: which guardrail and rule, where in the text, what it decided. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record GuardrailFinding(
        String guardrail, String category, String rule, Double score, Integer start, Integer end, String action) {}
