package dev.llmgateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.llmgateway.admin.KeyCreate;
import dev.llmgateway.errors.ConnectionException;
import dev.llmgateway.errors.GatewayException;
import dev.llmgateway.errors.RateLimitException;
import dev.llmgateway.errors.TimeoutException;
import dev.llmgateway.errors.UpstreamException;
import dev.llmgateway.inference.AsyncResult;
import dev.llmgateway.inference.Guardrails.Direction;
import dev.llmgateway.internal.ApiRequest;
import dev.llmgateway.model.GuardrailVerdict;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The retry and error rules, against a scripted local HTTP server (the real gateway cannot be
 * made to fail on cue): which failures are retried, that retry-after is honoured, that the
 * waiting budget is never exceeded, and what a timeout and a refused connection become.
 */
class TransportTest {
    /** One scripted answer: status, headers, body. */
    private record Answer(int status, String[][] headers, String body) {}

    private HttpServer server;
    private final Deque<Answer> script = new ArrayDeque<>();
    private final AtomicInteger hits = new AtomicInteger();
    private final List<Duration> waits = new ArrayList<>();

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            hits.incrementAndGet();
            exchange.getRequestBody().readAllBytes();
            Answer a;
            synchronized (script) {
                a = script.isEmpty() ? new Answer(500, new String[0][], "{}") : script.removeFirst();
            }
            if (a.body.equals("HANG")) {
                try {
                    Thread.sleep(2_000);
                } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                }
            }
            for (String[] h : a.headers) {
                exchange.getResponseHeaders().add(h[0], h[1]);
            }
            byte[] body = a.body.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(a.status, body.length == 0 ? -1 : body.length);
            if (body.length > 0) {
                exchange.getResponseBody().write(body);
            }
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private GatewayClient client(RetryPolicy policy) {
        return GatewayClient.builder()
                .baseUrl("http://127.0.0.1:" + server.getAddress().getPort())
                .apiKey("test")
                .timeout(Duration.ofMillis(500))
                .retryPolicy(policy)
                .sleeper(waits::add)
                .build();
    }

    private void answer(int status, String body, String... headerPairs) {
        String[][] headers = new String[headerPairs.length / 2][];
        for (int i = 0; i < headers.length; i++) {
            headers[i] = new String[] {headerPairs[2 * i], headerPairs[2 * i + 1]};
        }
        script.addLast(new Answer(status, headers, body));
    }

    private static String error(String type, String code, String message) {
        return "{\"error\":{\"message\":\"" + message + "\",\"type\":\"" + type + "\",\"code\":\"" + code + "\",\"param\":null}}";
    }

    private static final String DEPLOYMENTS = "{\"object\":\"list\",\"data\":[]}";

    @Test
    void retryAfterIsHonouredThenTheCallSucceeds() {
        answer(429, error("rate_limit_error", "rate_limit_exceeded", "slow down"), "retry-after", "2", "retry-after-ms", "1500");
        answer(503, error("service_unavailable", "x", "not ready"), "retry-after", "1");
        answer(200, DEPLOYMENTS, "content-type", "application/json");
        assertTrue(client(RetryPolicy.DEFAULT).deployments().list().isEmpty());
        assertEquals(3, hits.get());
        assertEquals(List.of(Duration.ofMillis(1500), Duration.ofSeconds(1)), waits, "retry-after-ms wins over retry-after");
    }

    @Test
    void anAsyncJobsRecordedAnswerIsFinal() {
        // A job whose call was answered 429 keeps that answer: asking again gives the same.
        answer(429, error("rate_limit_error", "rate_limit_exceeded", "slow down"), "retry-after", "1",
                "x-gateway-async-status", "completed");
        assertThrows(RateLimitException.class, () -> client(RetryPolicy.DEFAULT).asyncCalls().get("async_1"));
        assertEquals(1, hits.get());
        assertTrue(waits.isEmpty());
        // A 429 of the poll itself (no job state) is retried as usual.
        answer(429, error("rate_limit_error", "rate_limit_exceeded", "slow down"), "retry-after", "1");
        answer(202, "{\"id\":\"async_1\",\"object\":\"async.job\",\"status\":\"pending\",\"route\":\"/query\","
                + "\"created_at\":1765045800,\"completed_at\":null,\"retried\":false,\"callback_url\":null}",
                "x-gateway-async-status", "pending", "retry-after", "1", "content-type", "application/json");
        AsyncResult pending = client(RetryPolicy.DEFAULT).asyncCalls().get("async_1");
        assertEquals("pending", pending.status());
        assertEquals(Duration.ofSeconds(1), pending.retryAfter().orElseThrow());
        assertEquals("/query", pending.job().orElseThrow().route());
        assertEquals(3, hits.get());
        assertEquals(List.of(Duration.ofSeconds(1)), waits);
    }

    @Test
    void aWaitBeyondTheBudgetIsNotMade() {
        answer(429, error("rate_limit_error", "rate_limit_exceeded", "slow down"), "retry-after", "120");
        RateLimitException e = assertThrows(RateLimitException.class, () -> client(RetryPolicy.DEFAULT).deployments().list());
        assertEquals(Duration.ofSeconds(120), e.retryAfter().orElseThrow());
        assertEquals(1, hits.get());
        assertTrue(waits.isEmpty());
    }

    @Test
    void retriesStopAtMaxRetries() {
        for (int i = 0; i < 5; i++) {
            answer(502, error("upstream_error", "upstream_error", "bad gateway"));
        }
        assertThrows(UpstreamException.class, () -> client(RetryPolicy.ofRetries(2)).deployments().list());
        assertEquals(3, hits.get(), "one call and two retries");
        assertEquals(2, waits.size());
        assertTrue(waits.get(1).compareTo(Duration.ofMillis(500)) >= 0 && waits.get(1).compareTo(Duration.ofSeconds(1)) <= 0,
                "exponential backoff with jitter: " + waits);
    }

    @Test
    void aCreateIsNotRepeatedAfterAnAmbiguousFailure() {
        answer(502, error("upstream_error", "upstream_error", "bad gateway"));
        answer(200, "{}");
        assertThrows(UpstreamException.class, () -> client(RetryPolicy.DEFAULT).keys().create(KeyCreate.of("t", "n")));
        assertEquals(1, hits.get(), "a create that may have happened is not sent twice");
    }

    @Test
    void aNonJsonErrorKeepsItsStatusAndText() {
        answer(418, "I'm a teapot");
        GatewayException e = assertThrows(GatewayException.class, () -> client(RetryPolicy.NONE).deployments().list());
        assertEquals(418, e.status());
        assertTrue(e.getMessage().contains("teapot"), e.getMessage());
    }

    @Test
    void aSlowAnswerIsATimeout() {
        answer(200, "HANG");
        TimeoutException e = assertThrows(TimeoutException.class, () -> client(RetryPolicy.NONE).deployments().list());
        assertEquals(0, e.status());
    }

    @Test
    void aRefusedConnectionIsAConnectionError() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        GatewayClient nowhere = GatewayClient.builder().baseUrl("http://127.0.0.1:" + port)
                .retryPolicy(RetryPolicy.ofRetries(1)).sleeper(waits::add).build();
        assertThrows(ConnectionException.class, () -> nowhere.deployments().list());
        assertEquals(1, waits.size(), "a connection that never opened is retried");
    }

    private static final String VERDICT = "{\"flagged\":false,\"action\":\"allow\",\"findings\":[],\"redacted_text\":null}";

    @Test
    void asyncCallsRetryWithinTheSameBudget() throws Exception {
        answer(503, error("service_unavailable", "x", "not ready"), "retry-after-ms", "20");
        answer(200, VERDICT, "content-type", "application/json");
        GuardrailVerdict v = client(RetryPolicy.DEFAULT).guardrails().checkAsync("hi", Direction.INPUT)
                .get(10, TimeUnit.SECONDS);
        assertEquals("allow", v.action());
        assertEquals(2, hits.get());

        hits.set(0);
        answer(429, error("rate_limit_error", "rate_limit_exceeded", "slow down"), "retry-after", "120");
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> client(RetryPolicy.DEFAULT).guardrails().checkAsync("hi", Direction.INPUT).get(10, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof RateLimitException, String.valueOf(e.getCause()));
        assertEquals(1, hits.get(), "a wait beyond the budget is not scheduled");
    }

    @Test
    void metadataComesFromTheGatewayHeaders() {
        answer(200, "{\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
                + "\"content\":\"hi\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":1,"
                + "\"completion_tokens\":1,\"total_tokens\":2}}",
                "x-request-id", "req-1", "x-gateway-provider", "claude", "x-gateway-model", "claude-haiku-4-5",
                "x-gateway-attempts", "2", "x-gateway-cache", "miss", "x-gateway-region", "eu",
                "x-gateway-dropped-params", "seed, logit_bias", "x-ratelimit-limit-requests", "60",
                "x-ratelimit-remaining-requests", "59", "x-ratelimit-reset-requests", "1.000s");
        var m = client(RetryPolicy.NONE).chat().complete("smart", "hi").metadata();
        assertEquals("req-1", m.requestId());
        assertEquals("claude", m.provider().orElseThrow());
        assertEquals("claude-haiku-4-5", m.model().orElseThrow());
        assertEquals(2, m.attempts().orElseThrow());
        assertEquals("eu", m.region().orElseThrow());
        assertEquals(List.of("seed", "logit_bias"), m.droppedParams());
        assertEquals(60, m.rateLimits().limitRequests().orElseThrow());
        assertEquals(59, m.rateLimits().remainingRequests().orElseThrow());
        assertEquals("1.000s", m.rateLimits().resetRequests());
        assertTrue(m.rateLimits().limitTokens().isEmpty());
    }

    @Test
    void idsAreEscapedIntoOnePathSegment() {
        assertEquals("a%2F..%2Fb%3Fx%3D1%20c", ApiRequest.segment("a/../b?x=1 c"));
        assertThrows(IllegalArgumentException.class, () -> ApiRequest.segment(""));
    }
}
