package dev.llmgateway.inference;

import static dev.llmgateway.internal.ApiRequest.segment;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgateway.errors.AsyncCallTimeoutException;
import dev.llmgateway.errors.ConnectionException;
import dev.llmgateway.errors.ErrorDetails;
import dev.llmgateway.errors.GatewayException;
import dev.llmgateway.internal.ApiRequest;
import dev.llmgateway.internal.ApiResponse;
import dev.llmgateway.internal.Json;
import dev.llmgateway.internal.Transport;
import java.time.Duration;
import java.util.Optional;

/**
 * Asynchronous calls (docs/async.md): a model call sent with {@code Prefer: respond-async} is
 * answered at once with a job, and its answer waits at {@code GET /v1/async/{id}}.
 *
 * <pre>{@code
 * AsyncJob job = gw.asyncCalls().submit(ChatRequest.model("demo").user("Write a haiku"));
 * AsyncResult done = gw.asyncCalls().waitFor(job.id(), Duration.ofMinutes(2));  // at most 2 min
 * done.body().orElseThrow().path("choices").path(0).path("message").path("content").asText();
 * }</pre>
 *
 * <p>{@link #run} is {@link #submit} then {@link #waitFor}. Polling is bounded: {@code waitFor}
 * gives up after its timeout with {@link AsyncCallTimeoutException} (the job goes on). Once the
 * call ran, its answer is what the synchronous call would have given: a success is returned, an
 * error answer is thrown as the same typed exception (a guardrail's 422 as {@code
 * PolicyViolationException}, a limit's 429 as {@code RateLimitException}, a {@code failed} job
 * as the gateway's 502), never retried: it is the call's final answer.
 */
public final class AsyncCalls {
    private static final String PATH = "/v1/async/";
    /** Between polls unless the gateway's {@code retry-after} asks for longer. */
    public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(1);

    private final Transport transport;

    public AsyncCalls(Transport transport) {
        this.transport = transport;
    }

    /**
     * Sends a model call ({@code path}: {@code /v1/chat/completions}, {@code /v1/embeddings},
     * {@code /v1/messages}, {@code /query}, ...) with {@code Prefer: respond-async}; returns its
     * job. A bad request is refused at once with its typed exception, and no job is made.
     */
    public AsyncJob submit(String path, Object body) {
        return submit(path, body, null);
    }

    /** A chat completion ({@code POST /v1/chat/completions}) sent with {@code Prefer: respond-async}. */
    public AsyncJob submit(ChatRequest request) {
        return submit("/v1/chat/completions", request.body(), null);
    }

    /**
     * {@link #submit(String, Object)} with {@code x-gateway-callback-url}: one of the tenant's
     * webhook endpoints, to receive the {@code async.completed} event (null: none).
     */
    public AsyncJob submit(String path, Object body, String callbackUrl) {
        if (path == null || !path.startsWith("/") || path.startsWith("//")) {
            throw new IllegalArgumentException("path must be a model-call route such as /v1/chat/completions, got " + path);
        }
        ApiRequest request = ApiRequest.post(path, body).header("prefer", "respond-async");
        if (callbackUrl != null) {
            request.header("x-gateway-callback-url", callbackUrl);
        }
        ApiResponse resp = transport.send(request);
        String applied = resp.headers().firstValue("preference-applied").orElse("");
        if (!applied.toLowerCase(java.util.Locale.ROOT).contains("respond-async")) {
            // A gateway without a store (the edge profile) runs the call at once instead.
            throw new GatewayException(new ErrorDetails(resp.status(),
                    "The gateway answered the call synchronously (it keeps no async jobs: edge profile).",
                    null, null, null, resp.header("x-request-id"), null, null));
        }
        return Json.read(resp.body(), AsyncJob.class);
    }

    /** One look at the job: waiting ({@code done()} false), or its answer; an error answer is thrown typed. */
    public AsyncResult get(String id) {
        ApiResponse resp = transport.send(ApiRequest.get(PATH + segment(id)).recordedAnswersFinal());
        String status = resp.headers().firstValue("x-gateway-async-status").orElse("completed");
        ResponseMetadata meta = ResponseMetadata.from(resp.headers(), resp.attempts());
        if (status.equals("pending") || status.equals("running") || status.equals("cancelled")) {
            return new AsyncResult(id, status, Optional.of(Json.read(resp.body(), AsyncJob.class)), Optional.empty(), meta,
                    resp.retryAfter());
        }
        JsonNode body = resp.body().length == 0 ? null : Json.tree(resp.body());
        return new AsyncResult(id, status, Optional.empty(), Optional.ofNullable(body), meta, resp.retryAfter());
    }

    /** Cancels a {@code pending} job (one that started or ended cannot be: 400). */
    public AsyncJob cancel(String id) {
        return Json.read(transport.send(ApiRequest.delete(PATH + segment(id))).body(), AsyncJob.class);
    }

    /** {@link #waitFor(String, Duration, Duration)} polling every second (or as {@code retry-after} says). */
    public AsyncResult waitFor(String id, Duration timeout) {
        return waitFor(id, timeout, DEFAULT_POLL_INTERVAL);
    }

    /**
     * Polls until the job is answered or cancelled, at most {@code timeout} (then {@link
     * AsyncCallTimeoutException}); between polls {@code pollInterval}, or the gateway's {@code
     * retry-after} when longer.
     */
    public AsyncResult waitFor(String id, Duration timeout, Duration pollInterval) {
        positive(timeout, "timeout");
        positive(pollInterval, "pollInterval");
        long deadline = System.nanoTime() + timeout.toNanos();
        for (;;) {
            AsyncResult result = get(id);
            long remaining = deadline - System.nanoTime();
            if (result.done()) {
                return result;
            }
            if (remaining <= 0) {
                throw new AsyncCallTimeoutException(id, result.status(), timeout);
            }
            long asked = result.retryAfter().map(Duration::toNanos).orElse(0L);
            long pause = Math.min(Math.max(pollInterval.toNanos(), asked), remaining);
            try {
                Thread.sleep(pause / 1_000_000, (int) (pause % 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ConnectionException(ErrorDetails.noAnswer("Interrupted while waiting for async call " + id + ".", e));
            }
        }
    }

    /** {@link #submit(String, Object)} then {@link #waitFor(String, Duration)}. */
    public AsyncResult run(String path, Object body, Duration timeout) {
        positive(timeout, "timeout");
        return waitFor(submit(path, body).id(), timeout);
    }

    private static void positive(Duration d, String what) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(what + " must be positive");
        }
    }
}
