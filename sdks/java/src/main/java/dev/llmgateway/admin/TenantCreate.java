package dev.llmgateway.admin;

import dev.llmgateway.model.Limits;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The body of {@code POST /admin/v1/tenants}. The id is 1-64 letters, digits, {@code -}, {@code _}
 * or {@code .}; everything else is optional (the name defaults to the id).
 */
public final class TenantCreate {
    final Map<String, Object> fields = new LinkedHashMap<>();

    private TenantCreate(String id) {
        fields.put("id", id);
    }

    public static TenantCreate id(String id) {
        return new TenantCreate(id);
    }

    public TenantCreate name(String name) {
        fields.put("name", name);
        return this;
    }

    public TenantCreate enabled(boolean enabled) {
        fields.put("enabled", enabled);
        return this;
    }

    /** The models this tenant may call (all when not set). */
    public TenantCreate allowedModels(List<String> models) {
        fields.put("allowed_models", List.copyOf(models));
        return this;
    }

    /** The regions its calls may be served from (any when not set). */
    public TenantCreate allowedRegions(List<String> regions) {
        fields.put("allowed_regions", List.copyOf(regions));
        return this;
    }

    public TenantCreate limits(Limits limits) {
        fields.put("limits", limits);
        return this;
    }
}
