package dev.llmgateway.admin;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The body of {@code PATCH /admin/v1/webhooks/{id}}: only what is set changes. */
public final class WebhookUpdate {
    final Map<String, Object> fields = new LinkedHashMap<>();

    public static WebhookUpdate create() {
        return new WebhookUpdate();
    }

    public WebhookUpdate url(String url) {
        fields.put("url", url);
        return this;
    }

    public WebhookUpdate events(List<String> events) {
        fields.put("events", List.copyOf(events));
        return this;
    }

    public WebhookUpdate description(String description) {
        fields.put("description", description);
        return this;
    }

    /** {@code false} pauses deliveries. */
    public WebhookUpdate enabled(boolean enabled) {
        fields.put("enabled", enabled);
        return this;
    }
}
