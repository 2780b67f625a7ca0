package dev.llmgateway.admin;

import dev.llmgateway.model.Limits;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The body of {@code PATCH /admin/v1/keys/{id}}: only what is set changes. */
public final class KeyUpdate {
    final Map<String, Object> fields = new LinkedHashMap<>();

    public static KeyUpdate create() {
        return new KeyUpdate();
    }

    public KeyUpdate name(String name) {
        fields.put("name", name);
        return this;
    }

    public KeyUpdate roles(String... roles) {
        fields.put("roles", List.of(roles));
        return this;
    }

    public KeyUpdate allowedModels(List<String> models) {
        fields.put("allowed_models", List.copyOf(models));
        return this;
    }

    public KeyUpdate clearAllowedModels() {
        fields.put("allowed_models", null);
        return this;
    }

    /** Replaces all the key's limits. */
    public KeyUpdate limits(Limits limits) {
        fields.put("limits", limits);
        return this;
    }

    public KeyUpdate expiresAt(Instant at) {
        fields.put("expires_at", at.toString());
        return this;
    }

    public KeyUpdate clearExpiry() {
        fields.put("expires_at", null);
        return this;
    }

    public KeyUpdate metadata(Map<String, ?> metadata) {
        fields.put("metadata", Map.copyOf(metadata));
        return this;
    }

    /** {@code false} disables the key (reversible, unlike a revocation). */
    public KeyUpdate enabled(boolean enabled) {
        fields.put("enabled", enabled);
        return this;
    }
}
