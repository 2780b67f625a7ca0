package dev.llmgateway.admin;

import dev.llmgateway.internal.ApiRequest;
import dev.llmgateway.internal.Transport;
import dev.llmgateway.model.CacheInvalidation;
import java.util.Map;

/**
 * {@code POST /admin/v1/cache/invalidate} (admin only): drop cached answers for everyone, one
 * tenant or one model. Other instances are told through Redis when the cache is shared.
 */
public final class Cache {
    private static final String PATH = "/admin/v1/cache/invalidate";
    private final Transport transport;

    public Cache(Transport transport) {
        this.transport = transport;
    }

    public CacheInvalidation invalidateAll() {
        return send(Map.of("scope", "all"));
    }

    public CacheInvalidation invalidateTenant(String tenant) {
        return send(Map.of("scope", "tenant", "tenant", tenant));
    }

    public CacheInvalidation invalidateModel(String model) {
        return send(Map.of("scope", "model", "model", model));
    }

    private CacheInvalidation send(Map<String, String> body) {
        return transport.send(ApiRequest.idempotentPost(PATH, body)).json(CacheInvalidation.class);
    }
}
