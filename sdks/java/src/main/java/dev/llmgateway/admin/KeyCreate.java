package dev.llmgateway.admin;

import dev.llmgateway.model.Limits;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The body of {@code POST /admin/v1/keys}: a tenant and a name, then optionally roles ({@code
 * admin}, {@code tenant_admin}, {@code developer} (the default), {@code viewer}, {@code auditor}),
 * allowed models, limits, an expiry and metadata.
 */
public final class KeyCreate {
    final Map<String, Object> fields = new LinkedHashMap<>();

    private KeyCreate(String tenant, String name) {
        fields.put("tenant", tenant);
        fields.put("name", name);
    }

    public static KeyCreate of(String tenant, String name) {
        return new KeyCreate(tenant, name);
    }

    public KeyCreate roles(String... roles) {
        fields.put("roles", List.of(roles));
        return this;
    }

    public KeyCreate allowedModels(List<String> models) {
        fields.put("allowed_models", List.copyOf(models));
        return this;
    }

    public KeyCreate limits(Limits limits) {
        fields.put("limits", limits);
        return this;
    }

    /** Expires at this instant (exclusive with {@link #expiresInDays}). */
    public KeyCreate expiresAt(Instant at) {
        fields.put("expires_at", at.toString());
        return this;
    }

    /** Expires this many days from now, 1 to 36500. */
    public KeyCreate expiresInDays(int days) {
        fields.put("expires_in_days", days);
        return this;
    }

    /** Free-form labels (a JSON object), e.g. the owning team. */
    public KeyCreate metadata(Map<String, ?> metadata) {
        fields.put("metadata", Map.copyOf(metadata));
        return this;
    }
}
