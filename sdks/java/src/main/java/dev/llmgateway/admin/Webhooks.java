package dev.llmgateway.admin;

import static dev.llmgateway.internal.ApiRequest.segment;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgateway.internal.ApiRequest;
import dev.llmgateway.internal.Json;
import dev.llmgateway.internal.Transport;
import dev.llmgateway.model.WebhookDelivery;
import dev.llmgateway.model.WebhookEndpoint;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * {@code /admin/v1/webhooks}: a tenant's signed webhook endpoints (docs/webhooks.md): create
 * (the signing secret is shown once), list, get, update, delete, rotate the secret (the old one
 * keeps signing for the configured overlap), the delivery log, and manual redelivery. Reads need
 * {@code read_keys}, changes {@code manage_keys} on the endpoint's tenant; another tenant's
 * endpoint or delivery answers 404 like a missing one. Verify deliveries with {@link
 * dev.llmgateway.webhooks.WebhookVerifier}.
 */
public final class Webhooks {
    private static final String PATH = "/admin/v1/webhooks";
    /** The largest page the gateway serves. */
    public static final int MAX_PAGE = 100;
    private final Transport transport;

    public Webhooks(Transport transport) {
        this.transport = transport;
    }

    /** Registers an endpoint; {@link WebhookEndpoint#secret()} is the only copy of its secret. */
    public WebhookEndpoint create(WebhookCreate body) {
        return transport.send(ApiRequest.post(PATH, body.fields)).json(WebhookEndpoint.class);
    }

    /** Every endpoint the caller may see. */
    public List<WebhookEndpoint> list() {
        return list(null);
    }

    /** The endpoints of one tenant. */
    public List<WebhookEndpoint> list(String tenant) {
        return many(transport.send(ApiRequest.get(PATH).query("tenant", tenant)).body(), WebhookEndpoint.class);
    }

    public WebhookEndpoint get(String id) {
        return transport.send(ApiRequest.get(path(id, ""))).json(WebhookEndpoint.class);
    }

    public WebhookEndpoint update(String id, WebhookUpdate body) {
        if (body.fields.isEmpty()) {
            throw new IllegalArgumentException("update needs at least one field to change");
        }
        return transport.send(ApiRequest.patch(path(id, ""), body.fields)).json(WebhookEndpoint.class);
    }

    public void delete(String id) {
        transport.send(ApiRequest.delete(path(id, "")));
    }

    /**
     * A new secret, in the result this once; the previous one keeps signing until {@link
     * WebhookEndpoint#previousSecretExpiresAt()} (deliveries carry both signatures meanwhile).
     */
    public WebhookEndpoint rotateSecret(String id) {
        return transport.send(ApiRequest.post(path(id, "/rotate-secret"), Map.of())).json(WebhookEndpoint.class);
    }

    /** The newest deliveries of the endpoint (the gateway's default page), each with its attempts. */
    public List<WebhookDelivery> deliveries(String id) {
        return deliveries(id, null, null);
    }

    /**
     * One page of the endpoint's deliveries, newest first: those older than delivery {@code
     * before} (null: the newest), at most {@code limit} (1-100; null: the gateway's 20).
     */
    public List<WebhookDelivery> deliveries(String id, String before, Integer limit) {
        ApiRequest req = ApiRequest.get(path(id, "/deliveries")).query("before", before).query("limit", limit);
        return many(transport.send(req).body(), WebhookDelivery.class);
    }

    /** Every delivery of the endpoint, newest first, fetched {@code pageSize} at a time as the iteration goes. */
    public Iterable<WebhookDelivery> iterateDeliveries(String id, int pageSize) {
        if (pageSize < 1 || pageSize > MAX_PAGE) {
            throw new IllegalArgumentException("pageSize must be between 1 and " + MAX_PAGE);
        }
        segment(id);
        return () -> new Iterator<>() {
            private Iterator<WebhookDelivery> page;
            private String before;
            private boolean more = true;

            @Override
            public boolean hasNext() {
                while ((page == null || !page.hasNext()) && more) {
                    List<WebhookDelivery> next = deliveries(id, before, pageSize);
                    page = next.iterator();
                    more = next.size() == pageSize;
                    if (!next.isEmpty()) {
                        before = next.get(next.size() - 1).id();
                    }
                }
                return page != null && page.hasNext();
            }

            @Override
            public WebhookDelivery next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return page.next();
            }
        };
    }

    /** Queues a delivery again at once (a dead one too), with a new retry window; answers it pending. */
    public WebhookDelivery redeliver(String deliveryId) {
        String target = PATH + "/deliveries/" + segment(deliveryId) + "/redeliver";
        return transport.send(ApiRequest.post(target, Map.of())).json(WebhookDelivery.class);
    }

    private static String path(String id, String action) {
        return PATH + "/" + segment(id) + action;
    }

    private static <T> List<T> many(byte[] body, Class<T> type) {
        JsonNode data = Json.tree(body).path("data");
        List<T> out = new ArrayList<>();
        data.forEach(node -> out.add(Json.convert(node, type)));
        return out;
    }
}
