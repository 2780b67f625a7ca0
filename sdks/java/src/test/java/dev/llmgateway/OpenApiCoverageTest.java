package dev.llmgateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import dev.llmgateway.admin.AuditQuery;
import dev.llmgateway.admin.FeedbackQuery;
import dev.llmgateway.admin.KeyCreate;
import dev.llmgateway.admin.KeyUpdate;
import dev.llmgateway.admin.TenantCreate;
import dev.llmgateway.admin.TenantUpdate;
import dev.llmgateway.admin.UsageQuery;
import dev.llmgateway.admin.WebhookCreate;
import dev.llmgateway.admin.WebhookUpdate;
import dev.llmgateway.inference.Guardrails.Direction;
import dev.llmgateway.internal.Json;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The SDK covers every operation of the gateway's own APIs in {@code docs/openapi.json}, and
 * each method named here really sends that operation. When the specification gains an operation
 * (batches, feedback, templates admin views, ...), this fails until the SDK has a method.
 *
 * <p>The document is {@code $LLM_GATEWAY_OPENAPI} ({@code cargo xtask test} sets it), else
 * {@code ../../docs/openapi.json} from the working directory ({@code sdks/java}).
 */
class OpenApiCoverageTest {
    /** {@code METHOD /path/with/{}/parameters} -> a call of the SDK that sends it. */
    static final Map<String, Consumer<GatewayClient>> COVERED = new LinkedHashMap<>();

    static {
        COVERED.put("GET /admin/v1/tenants", c -> c.tenants().list());
        COVERED.put("POST /admin/v1/tenants", c -> c.tenants().create(TenantCreate.id("t")));
        COVERED.put("GET /admin/v1/tenants/{}", c -> c.tenants().get("t"));
        COVERED.put("PATCH /admin/v1/tenants/{}", c -> c.tenants().update("t", TenantUpdate.create().name("n")));
        COVERED.put("DELETE /admin/v1/tenants/{}", c -> c.tenants().delete("t"));
        COVERED.put("GET /admin/v1/keys", c -> c.keys().list());
        COVERED.put("POST /admin/v1/keys", c -> c.keys().create(KeyCreate.of("t", "n")));
        COVERED.put("GET /admin/v1/keys/{}", c -> c.keys().get("k"));
        COVERED.put("PATCH /admin/v1/keys/{}", c -> c.keys().update("k", KeyUpdate.create().name("n")));
        COVERED.put("POST /admin/v1/keys/{}/rotate", c -> c.keys().rotate("k"));
        COVERED.put("POST /admin/v1/keys/{}/revoke", c -> c.keys().revoke("k"));
        COVERED.put("POST /admin/v1/keys/{}/resume", c -> c.keys().resume("k"));
        COVERED.put("GET /admin/v1/anomalies", c -> c.anomalies().list("t", 5));
        COVERED.put("GET /admin/v1/usage", c -> c.usage().report(UsageQuery.all()));
        COVERED.put("GET /admin/v1/feedback", c -> c.feedback().list(FeedbackQuery.all()));
        COVERED.put("GET /admin/v1/feedback/summary", c -> c.feedback().summary(FeedbackQuery.all()));
        COVERED.put("POST /v1/feedback", c -> c.feedback().thumb("req-1", true, null, null));
        COVERED.put("GET /admin/v1/audit", c -> c.audit().list(AuditQuery.all()));
        COVERED.put("GET /admin/v1/audit/verify", c -> c.audit().verify());
        COVERED.put("GET /admin/v1/deployments", c -> c.deployments().list());
        COVERED.put("POST /admin/v1/cache/invalidate", c -> c.cache().invalidateAll());
        COVERED.put("GET /admin/v1/me", c -> c.console().me());
        COVERED.put("GET /admin/v1/config", c -> c.console().config());
        COVERED.put("POST /admin/v1/guardrails/check", c -> c.console().checkGuardrails("x", null, Direction.INPUT));
        COVERED.put("POST /admin/v1/backups", c -> c.backups().create());
        COVERED.put("GET /admin/v1/backups", c -> c.backups().list());
        COVERED.put("GET /admin/v1/backups/{}", c -> c.backups().get("gateway-20261206T210000000Z"));
        COVERED.put("GET /admin/v1/tenants/{}/encryption", c -> c.encryption().status("t"));
        COVERED.put("POST /admin/v1/tenants/{}/encryption/rotate", c -> c.encryption().rotate("t"));
        COVERED.put("POST /admin/v1/tenants/{}/encryption/reencrypt", c -> c.encryption().reencrypt("t"));
        COVERED.put("POST /admin/v1/tenants/{}/encryption/open", c -> c.encryption().open("t", List.of("gwe1:AAAA")));
        COVERED.put("POST /admin/v1/encryption/rewrap", c -> c.encryption().rewrap());
        COVERED.put("GET /admin/v1/templates", c -> c.templates().list());
        COVERED.put("POST /admin/v1/templates", c -> c.templates().create(Map.of("id", "greet", "prompt", "Hi {{ name }}")));
        COVERED.put("GET /admin/v1/templates/{}", c -> c.templates().get("greet", null));
        COVERED.put("GET /admin/v1/templates/{}/versions/{}", c -> c.templates().getVersion("greet", 1, null));
        COVERED.put("DELETE /admin/v1/templates/{}", c -> c.templates().delete("greet", null));
        COVERED.put("POST /admin/v1/templates/{}/render", c -> c.templates().render("greet", Map.of("name", "x"), null, null));
        COVERED.put("POST /admin/v1/prompts/lint", c -> c.prompts().lint(Map.of("prompt", "Hi")));
        COVERED.put("GET /admin/v1/webhooks", c -> c.webhooks().list());
        COVERED.put("POST /admin/v1/webhooks",
                c -> c.webhooks().create(WebhookCreate.of("t", "https://h.example/x", List.of("key.created"))));
        COVERED.put("GET /admin/v1/webhooks/{}", c -> c.webhooks().get("ep"));
        COVERED.put("PATCH /admin/v1/webhooks/{}", c -> c.webhooks().update("ep", WebhookUpdate.create().enabled(false)));
        COVERED.put("DELETE /admin/v1/webhooks/{}", c -> c.webhooks().delete("ep"));
        COVERED.put("POST /admin/v1/webhooks/{}/rotate-secret", c -> c.webhooks().rotateSecret("ep"));
        COVERED.put("GET /admin/v1/webhooks/{}/deliveries", c -> c.webhooks().deliveries("ep"));
        COVERED.put("POST /admin/v1/webhooks/deliveries/{}/redeliver", c -> c.webhooks().redeliver("msg"));
        COVERED.put("GET /v1/async/{}", c -> c.asyncCalls().get("async_0193a5c2e1d07c6a9f3b2d1e0f4a5b6c"));
        COVERED.put("DELETE /v1/async/{}", c -> c.asyncCalls().cancel("async_0193a5c2e1d07c6a9f3b2d1e0f4a5b6c"));
        COVERED.put("POST /v1/guardrails/check", c -> c.guardrails().check("x"));
        COVERED.put("GET /v1/models", c -> c.models().list());
        COVERED.put("POST /v1/chat/completions", c -> c.chat().complete("m", "x"));
        COVERED.put("POST /query", c -> c.query().ask("x"));
        COVERED.put("GET /health", GatewayClient::health);
        COVERED.put("GET /ready", GatewayClient::ready);
    }

    /** The gateway's own APIs: what the SDK must cover (model calls are the official SDKs'). */
    static final Pattern OWN = Pattern.compile("^/(admin/v1/|v1/guardrails/|v1/async/|v1/feedback$)");
    static final Set<String> METHODS = Set.of("get", "post", "put", "patch", "delete");

    static JsonNode spec() throws IOException {
        String env = System.getenv("LLM_GATEWAY_OPENAPI");
        Path path = env != null && !env.isEmpty() ? Path.of(env) : Path.of("../../docs/openapi.json");
        assertTrue(Files.isRegularFile(path), path + " does not exist (cargo xtask openapi writes it)");
        return Json.tree(Files.readAllBytes(path));
    }

    static String normalise(String path) {
        return path.replaceAll("\\{[^}]*}", "{}");
    }

    @Test
    void theSdkCoversEveryOwnOperationOfTheSpecification() throws IOException {
        Set<String> own = new TreeSet<>();
        Set<String> all = new TreeSet<>();
        for (Iterator<Map.Entry<String, JsonNode>> paths = spec().path("paths").fields(); paths.hasNext();) {
            Map.Entry<String, JsonNode> entry = paths.next();
            for (Iterator<String> methods = entry.getValue().fieldNames(); methods.hasNext();) {
                String method = methods.next();
                if (!METHODS.contains(method)) {
                    continue;
                }
                String op = method.toUpperCase(java.util.Locale.ROOT) + " " + normalise(entry.getKey());
                all.add(op);
                if (OWN.matcher(entry.getKey()).find()) {
                    own.add(op);
                }
            }
        }
        List<String> missing = new ArrayList<>(own);
        missing.removeAll(COVERED.keySet());
        assertEquals(List.of(), missing, "operations in docs/openapi.json without an SDK method");
        List<String> unknown = new ArrayList<>(COVERED.keySet());
        unknown.removeAll(all);
        assertEquals(List.of(), unknown, "operations named here that the specification does not have");
    }

    @Test
    void eachMethodNamedHereSendsItsOperation() throws IOException {
        AtomicReference<String> sent = new AtomicReference<>();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            sent.set(exchange.getRequestMethod() + " " + exchange.getRequestURI().getRawPath());
            exchange.getRequestBody().readAllBytes();
            byte[] body = "{\"object\":\"list\",\"data\":[],\"next_after\":null}".getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("content-type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        try {
            GatewayClient client = GatewayClient.builder()
                    .baseUrl("http://127.0.0.1:" + server.getAddress().getPort())
                    .apiKey("token-0123456789abcdef")
                    .retryPolicy(RetryPolicy.NONE)
                    .build();
            for (Map.Entry<String, Consumer<GatewayClient>> entry : COVERED.entrySet()) {
                sent.set(null);
                try {
                    entry.getValue().accept(client);
                } catch (RuntimeException unexpectedAnswer) {
                    // The canned answer need not parse as every record: what was sent is checked.
                }
                String[] op = entry.getKey().split(" ", 2);
                String pattern = "^" + Pattern.quote(op[0] + " ") + Pattern.quote(op[1]).replace("{}", "\\E[^/]+\\Q") + "$";
                String got = sent.get() == null ? "(nothing sent)" : sent.get();
                assertTrue(Pattern.matches(pattern, got), entry.getKey() + " sent " + got);
            }
        } finally {
            server.stop(0);
        }
    }
}
