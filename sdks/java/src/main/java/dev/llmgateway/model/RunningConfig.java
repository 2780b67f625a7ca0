package dev.llmgateway.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

/** The running configuration ({@code GET /admin/v1/config}) as TOML, every secret redacted. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record RunningConfig(@JsonProperty("loaded_at") String loadedAt, String text) {}
