package dev.llmgateway.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

/** A model the caller may use, as {@code GET /v1/models} lists it (the gateway's public name). */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ModelInfo(String id, @JsonProperty("owned_by") String ownedBy, Long created) {}
