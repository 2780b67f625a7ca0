package dev.llmgateway.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

/** The result of re-computing the audit hash chain. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record AuditVerification(
        long checked, boolean intact, @JsonProperty("first_broken_seq") Long firstBrokenSeq) {}
