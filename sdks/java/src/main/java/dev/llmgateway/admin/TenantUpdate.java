package dev.llmgateway.admin;

import dev.llmgateway.model.Limits;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The body of {@code PATCH /admin/v1/tenants/{id}}: only what is set changes. {@code
 * clearAllowedModels()} sends an explicit {@code null} (every model allowed again); {@code
 * limits(...)} replaces all the tenant's limits.
 */
public final class TenantUpdate {
    final Map<String, Object> fields = new LinkedHashMap<>();

    public static TenantUpdate create() {
        return new TenantUpdate();
    }

    public TenantUpdate name(String name) {
        fields.put("name", name);
        return this;
    }

    public TenantUpdate enabled(boolean enabled) {
        fields.put("enabled", enabled);
        return this;
    }

    public TenantUpdate allowedModels(List<String> models) {
        fields.put("allowed_models", List.copyOf(models));
        return this;
    }

    public TenantUpdate clearAllowedModels() {
        fields.put("allowed_models", null);
        return this;
    }

    public TenantUpdate allowedRegions(List<String> regions) {
        fields.put("allowed_regions", List.copyOf(regions));
        return this;
    }

    public TenantUpdate clearAllowedRegions() {
        fields.put("allowed_regions", null);
        return this;
    }

    public TenantUpdate limits(Limits limits) {
        fields.put("limits", limits);
        return this;
    }
}
