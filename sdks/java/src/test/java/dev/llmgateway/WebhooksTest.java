package dev.llmgateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import dev.llmgateway.admin.KeyCreate;
import dev.llmgateway.admin.TenantCreate;
import dev.llmgateway.admin.WebhookCreate;
import dev.llmgateway.admin.WebhookUpdate;
import dev.llmgateway.errors.BadRequestException;
import dev.llmgateway.errors.NotFoundException;
import dev.llmgateway.model.CreatedKey;
import dev.llmgateway.model.WebhookDelivery;
import dev.llmgateway.model.WebhookEndpoint;
import dev.llmgateway.support.BaseUrl;
import dev.llmgateway.support.Gateway;
import dev.llmgateway.support.GatewayExtension;
import dev.llmgateway.webhooks.WebhookVerificationException;
import dev.llmgateway.webhooks.WebhookVerifier;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Webhooks against the real gateway: every admin operation, and deliveries the gateway really
 * signed, received on 127.0.0.1 and checked with {@link WebhookVerifier} (before and during a
 * secret rotation).
 */
@ExtendWith(GatewayExtension.class)
class WebhooksTest {
    record Received(Map<String, List<String>> headers, byte[] body) {
        String type() {
            return dev.llmgateway.internal.Json.tree(body).path("type").asText();
        }

        String header(String name) {
            return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name))
                    .map(e -> String.join(" ", e.getValue())).findFirst().orElse(null);
        }
    }

    static GatewayClient admin;
    static HttpServer receiver;
    static final List<Received> RECEIVED = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start(@BaseUrl String baseUrl) throws IOException {
        admin = Gateway.admin(baseUrl);
        receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/", exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            RECEIVED.add(new Received(Map.copyOf(exchange.getRequestHeaders()), body));
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        receiver.start();
    }

    @AfterAll
    static void stop() {
        receiver.stop(0);
    }

    static String url(String path) {
        return "http://127.0.0.1:" + receiver.getAddress().getPort() + path;
    }

    /** The requests of event {@code type} to {@code path}, once there are {@code n}. */
    static List<Received> waitFor(String type, int n) throws InterruptedException {
        boolean ok = Gateway.eventually(() -> RECEIVED.stream().filter(r -> r.type().equals(type)).count() >= n);
        List<Received> matching = RECEIVED.stream().filter(r -> r.type().equals(type)).collect(Collectors.toList());
        assertTrue(ok, "the receiver got " + matching.size() + " of " + n + " " + type + " deliveries");
        return matching;
    }

    @Test
    void lifecycleSignedDeliveriesRotationAndRedelivery() throws Exception {
        String tenant = admin.tenants().create(TenantCreate.id(Gateway.uniqueTenant("hooks"))).id();
        WebhookEndpoint endpoint = admin.webhooks().create(
                WebhookCreate.of(tenant, url("/hook"), List.of("key.created", "key.revoked")).description("ops"));
        assertTrue(endpoint.secret().startsWith("whsec_"));
        assertEquals(tenant, endpoint.tenant());
        assertEquals("ops", endpoint.description());
        assertNull(admin.webhooks().get(endpoint.id()).secret(), "the secret is shown only once");
        assertEquals(List.of(endpoint.id()),
                admin.webhooks().list(tenant).stream().map(WebhookEndpoint::id).collect(Collectors.toList()));
        assertTrue(admin.webhooks().list().stream().anyMatch(e -> e.id().equals(endpoint.id())));

        // A key.created event, delivered and signed: the verifier accepts it with the secret.
        CreatedKey key = admin.keys().create(KeyCreate.of(tenant, "hooked"));
        Received first = waitFor("key.created", 1).get(0);
        JsonNode payload = new WebhookVerifier(endpoint.secret()).verify(first.headers(), first.body());
        assertEquals("key.created", payload.path("type").asText());
        assertEquals(key.key().id(), payload.path("data").path("id").asText());
        assertFalse(new String(first.body(), StandardCharsets.UTF_8).contains(key.secret()), "never the key's secret");
        byte[] tampered = new String(first.body(), StandardCharsets.UTF_8).replace(key.key().id(), "key_other")
                .getBytes(StandardCharsets.UTF_8);
        assertThrows(WebhookVerificationException.class,
                () -> new WebhookVerifier(endpoint.secret()).verify(first.headers(), tampered));
        String otherSecret = admin.webhooks().create(WebhookCreate.of(tenant, url("/other"), List.of("batch.completed"))).secret();
        assertThrows(WebhookVerificationException.class,
                () -> new WebhookVerifier(otherSecret).verify(first.headers(), first.body()));

        // The delivery log shows it, with its attempt.
        assertTrue(Gateway.eventually(() -> admin.webhooks().deliveries(endpoint.id()).stream()
                .anyMatch(d -> d.status().equals("succeeded"))));
        WebhookDelivery delivered = admin.webhooks().deliveries(endpoint.id()).stream()
                .filter(d -> d.eventType().equals("key.created")).findFirst().orElseThrow();
        assertEquals(first.header("webhook-id"), delivered.id(), "the log's id is the webhook-id header");
        assertEquals(204, delivered.log().get(0).statusCode());
        assertTrue(delivered.log().get(0).succeeded());
        assertEquals("key.created", delivered.payload().path("type").asText());

        WebhookEndpoint updated = admin.webhooks().update(endpoint.id(),
                WebhookUpdate.create().events(List.of("key.revoked")).description("revocations"));
        assertEquals(List.of("key.revoked"), updated.events());
        assertEquals("revocations", updated.description());
        assertThrows(IllegalArgumentException.class, () -> admin.webhooks().update(endpoint.id(), WebhookUpdate.create()));

        // Rotation: a new secret; while the old one still signs, deliveries carry both.
        WebhookEndpoint rotated = admin.webhooks().rotateSecret(endpoint.id());
        assertTrue(rotated.secret().startsWith("whsec_"));
        assertNotEquals(endpoint.secret(), rotated.secret());
        assertNotNull(rotated.previousSecretExpiresAt(), "the old secret signs for the overlap");
        admin.keys().revoke(key.key().id());
        Received revoked = waitFor("key.revoked", 1).get(0);
        assertEquals(2, revoked.header("webhook-signature").split(" ").length, "two signatures during the overlap");
        assertEquals("key.revoked", new WebhookVerifier(rotated.secret()).verify(revoked.headers(), revoked.body()).path("type").asText());
        assertEquals("key.revoked", new WebhookVerifier(endpoint.secret()).verify(revoked.headers(), revoked.body()).path("type").asText());
        assertEquals("key.revoked", new WebhookVerifier(otherSecret, rotated.secret())
                .verify(revoked.headers(), revoked.body()).path("type").asText());

        // Manual redelivery: the same webhook-id again.
        WebhookDelivery again = admin.webhooks().redeliver(delivered.id());
        assertEquals(delivered.id(), again.id());
        assertEquals("pending", again.status());
        Received second = waitFor("key.created", 2).get(1);
        assertEquals(delivered.id(), second.header("webhook-id"));
        new WebhookVerifier(rotated.secret()).verify(second.headers(), second.body());

        // The log in pages, newest first.
        List<String> paged = new ArrayList<>();
        admin.webhooks().iterateDeliveries(endpoint.id(), 1).forEach(d -> paged.add(d.id()));
        assertEquals(admin.webhooks().deliveries(endpoint.id(), null, 100).stream().map(WebhookDelivery::id)
                .collect(Collectors.toList()), paged);
        assertEquals(2, paged.size());

        // Pausing, bad input, deletion.
        assertFalse(admin.webhooks().update(endpoint.id(), WebhookUpdate.create().enabled(false)).enabled());
        BadRequestException badLimit = assertThrows(BadRequestException.class,
                () -> admin.webhooks().deliveries(endpoint.id(), null, 0));
        assertEquals(java.util.Optional.of("limit"), badLimit.param());
        assertThrows(BadRequestException.class, () -> admin.webhooks().create(
                WebhookCreate.of(tenant, "http://10.0.0.1/hook", List.of("key.created"))));
        admin.webhooks().delete(endpoint.id());
        assertThrows(NotFoundException.class, () -> admin.webhooks().get(endpoint.id()));
        assertThrows(NotFoundException.class, () -> admin.webhooks().redeliver("msg_missing"));
    }
}
