package dev.llmgateway;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgateway.admin.Audit;
import dev.llmgateway.admin.Anomalies;
import dev.llmgateway.admin.Backups;
import dev.llmgateway.admin.Prompts;
import dev.llmgateway.admin.Templates;
import dev.llmgateway.admin.Cache;
import dev.llmgateway.admin.Console;
import dev.llmgateway.admin.Deployments;
import dev.llmgateway.admin.Encryption;
import dev.llmgateway.admin.Keys;
import dev.llmgateway.admin.Tenants;
import dev.llmgateway.admin.Feedback;
import dev.llmgateway.admin.Usage;
import dev.llmgateway.admin.Webhooks;
import dev.llmgateway.inference.AsyncCalls;
import dev.llmgateway.inference.Chat;
import dev.llmgateway.inference.Guardrails;
import dev.llmgateway.inference.Models;
import dev.llmgateway.inference.Query;
import dev.llmgateway.internal.ApiRequest;
import dev.llmgateway.internal.Json;
import dev.llmgateway.internal.Transport;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.Objects;

/**
 * The client of one LLM Secure Gateway. Thread-safe; build one and share it.
 *
 * <pre>{@code
 * GatewayClient gw = GatewayClient.builder()
 *         .baseUrl("http://127.0.0.1:8080")
 *         .apiKey(System.getenv("GATEWAY_ADMIN_TOKEN"))
 *         .build();
 * gw.tenants().create(TenantCreate.id("acme"));
 * }</pre>
 *
 * <p>The credential is sent as {@code Authorization: Bearer}: the admin token or an admin-capable
 * key for {@link #tenants()}, {@link #keys()} and the other admin resources; any gateway key for
 * {@link #chat()} and {@link #guardrails()}.
 */
public final class GatewayClient {
    /** The version of this SDK. Its major number is the major version of the API it speaks. */
    public static final String VERSION = "1.0.0";
    /** The admin API version this SDK speaks ({@code /admin/v1/}). */
    public static final String API_VERSION = "v1";

    private final Transport transport;
    private final Tenants tenants;
    private final Keys keys;
    private final Usage usage;
    private final Feedback feedback;
    private final Audit audit;
    private final Deployments deployments;
    private final Cache cache;
    private final Webhooks webhooks;
    private final Backups backups;
    private final Encryption encryption;
    private final Templates templates;
    private final Prompts prompts;
    private final Anomalies anomalies;
    private final Console console;
    private final Chat chat;
    private final Guardrails guardrails;
    private final Models models;
    private final Query query;
    private final AsyncCalls asyncCalls;

    private GatewayClient(Transport transport) {
        this.transport = transport;
        this.tenants = new Tenants(transport);
        this.keys = new Keys(transport);
        this.usage = new Usage(transport);
        this.feedback = new Feedback(transport);
        this.audit = new Audit(transport);
        this.deployments = new Deployments(transport);
        this.cache = new Cache(transport);
        this.webhooks = new Webhooks(transport);
        this.backups = new Backups(transport);
        this.encryption = new Encryption(transport);
        this.templates = new Templates(transport);
        this.prompts = new Prompts(transport);
        this.anomalies = new Anomalies(transport);
        this.console = new Console(transport);
        this.chat = new Chat(transport);
        this.guardrails = new Guardrails(transport);
        this.models = new Models(transport);
        this.query = new Query(transport);
        this.asyncCalls = new AsyncCalls(transport);
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * A client from the environment: {@code GATEWAY_URL} (default {@code http://127.0.0.1:8080})
     * and {@code GATEWAY_ADMIN_TOKEN}, else {@code GATEWAY_API_KEY} — the names {@code gatewayctl}
     * reads too.
     */
    public static GatewayClient fromEnv() {
        String url = System.getenv("GATEWAY_URL");
        String token = System.getenv("GATEWAY_ADMIN_TOKEN");
        if (token == null || token.isEmpty()) {
            token = System.getenv("GATEWAY_API_KEY");
        }
        return builder().baseUrl(url == null || url.isEmpty() ? "http://127.0.0.1:8080" : url).apiKey(token).build();
    }

    public String baseUrl() {
        return transport.baseUrl();
    }

    /** Tenants (admin API). */
    public Tenants tenants() {
        return tenants;
    }

    /** API keys (admin API). */
    public Keys keys() {
        return keys;
    }

    /** Usage reports (admin API). */
    public Usage usage() {
        return usage;
    }

    /** Feedback on calls: give it (any gateway key) and read it (admin API). */
    public Feedback feedback() {
        return feedback;
    }

    /** The audit log (admin API). */
    public Audit audit() {
        return audit;
    }

    /** Deployment states (admin API). */
    public Deployments deployments() {
        return deployments;
    }

    /** The response cache (admin API). */
    public Cache cache() {
        return cache;
    }

    /** Webhook endpoints, their delivery log and redelivery (admin API). */
    public Webhooks webhooks() {
        return webhooks;
    }

    /** Backups of the store: take one, list, read a manifest (admin API). */
    public Backups backups() {
        return backups;
    }

    /** Key management of the encryption of stored content: status, rotate, reencrypt, rewrap, open (admin API). */
    public Encryption encryption() {
        return encryption;
    }

    /** Prompt templates: create (or a new version), list, get, render, delete (admin API). */
    public Templates templates() {
        return templates;
    }

    /** The prompt linter (admin API). */
    public Prompts prompts() {
        return prompts;
    }

    /** Anomalies raised by behavioural anomaly detection on the answering instance (admin API). */
    public Anomalies anomalies() {
        return anomalies;
    }

    /** The caller, the running configuration and any tenant's guardrails (admin API). */
    public Console console() {
        return console;
    }

    /** Chat completions with the gateway's response metadata. */
    public Chat chat() {
        return chat;
    }

    /** The guardrails check. */
    public Guardrails guardrails() {
        return guardrails;
    }

    /** The models the credential may use. */
    public Models models() {
        return models;
    }

    /** The simple {@code POST /query} API. */
    public Query query() {
        return query;
    }

    /** Async calls: any model call with {@code Prefer: respond-async}, then its answer, polled (bounded). */
    public AsyncCalls asyncCalls() {
        return asyncCalls;
    }

    /** {@code GET /health}: liveness ({@code status}, {@code version}, ...). */
    public JsonNode health() {
        return Json.tree(transport.send(ApiRequest.get("/health")).body());
    }

    /**
     * {@code GET /ready}: readiness with each backend's check; throws {@link
     * dev.llmgateway.errors.ServiceUnavailableException} (503) when not ready.
     */
    public JsonNode ready() {
        return Json.tree(transport.send(ApiRequest.get("/ready")).body());
    }

    /** Settings of a {@link GatewayClient}. */
    public static final class Builder {
        private String baseUrl = "http://127.0.0.1:8080";
        private String apiKey;
        private Duration timeout = Duration.ofSeconds(60);
        private Duration connectTimeout = Duration.ofSeconds(10);
        private RetryPolicy retry = RetryPolicy.DEFAULT;
        private HttpClient httpClient;
        private Transport.Sleeper sleeper = d -> Thread.sleep(d.toMillis());

        /** The gateway's address, e.g. {@code https://gateway.example.com} (no {@code /v1}). */
        public Builder baseUrl(String baseUrl) {
            URI uri = URI.create(Objects.requireNonNull(baseUrl, "baseUrl"));
            if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) {
                throw new IllegalArgumentException("baseUrl must be an http:// or https:// URL: " + baseUrl);
            }
            this.baseUrl = baseUrl;
            return this;
        }

        /** The admin token or a gateway API key, sent as {@code Authorization: Bearer}. */
        public Builder apiKey(String apiKey) {
            this.apiKey = apiKey;
            return this;
        }

        /** The longest one HTTP attempt may take, answer included (default 60 s). */
        public Builder timeout(Duration timeout) {
            this.timeout = requirePositive(timeout, "timeout");
            return this;
        }

        /** The longest opening a connection may take (default 10 s); ignored with {@link #httpClient}. */
        public Builder connectTimeout(Duration connectTimeout) {
            this.connectTimeout = requirePositive(connectTimeout, "connectTimeout");
            return this;
        }

        /** Retries and their waiting budget (default {@link RetryPolicy#DEFAULT}). */
        public Builder retryPolicy(RetryPolicy retry) {
            this.retry = Objects.requireNonNull(retry, "retry");
            return this;
        }

        /** Shorthand for {@code retryPolicy(RetryPolicy.ofRetries(n))}. */
        public Builder maxRetries(int n) {
            return retryPolicy(RetryPolicy.ofRetries(n));
        }

        /** Your own {@link HttpClient} (proxy, TLS settings, executor). */
        public Builder httpClient(HttpClient httpClient) {
            this.httpClient = httpClient;
            return this;
        }

        /** How the client waits between retries; for tests that must not sleep. */
        public Builder sleeper(Transport.Sleeper sleeper) {
            this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
            return this;
        }

        public GatewayClient build() {
            HttpClient http = httpClient != null
                    ? httpClient
                    : HttpClient.newBuilder().connectTimeout(connectTimeout).build();
            String agent = "llm-gateway-java/" + VERSION + " (Java " + Runtime.version().feature() + ")";
            return new GatewayClient(new Transport(baseUrl, apiKey, timeout, retry, http, agent, sleeper));
        }

        private static Duration requirePositive(Duration d, String name) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + " must be positive");
            }
            return d;
        }
    }
}
