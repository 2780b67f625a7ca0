package dev.llmgateway.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.List;

/** The admin credential's identity ({@code GET /admin/v1/me}); {@code tenant} is null for the bootstrap admin. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Caller(String subject, String tenant, List<String> roles, List<String> permissions) {}
