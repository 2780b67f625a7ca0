package dev.llmgateway.admin;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The body of {@code POST /admin/v1/webhooks}: the tenant, an https URL (http and private
 * addresses only where the operator's {@code [webhooks]} section allows them) and the event
 * types to deliver ({@code key.created}, {@code limit.exceeded}, {@code batch.completed}, ...).
 */
public final class WebhookCreate {
    final Map<String, Object> fields = new LinkedHashMap<>();

    private WebhookCreate() {}

    public static WebhookCreate of(String tenant, String url, List<String> events) {
        WebhookCreate c = new WebhookCreate();
        c.fields.put("tenant", tenant);
        c.fields.put("url", url);
        c.fields.put("events", List.copyOf(events));
        return c;
    }

    public WebhookCreate description(String description) {
        fields.put("description", description);
        return this;
    }

    /** {@code false}: registered paused. */
    public WebhookCreate enabled(boolean enabled) {
        fields.put("enabled", enabled);
        return this;
    }
}
