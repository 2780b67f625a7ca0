package dev.llmgateway.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.JsonNode;

/** The result of a cache invalidation: the scope it covered and how many entries it removed. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record CacheInvalidation(JsonNode scope, long removed) {}
