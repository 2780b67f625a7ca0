package dev.llmgateway.internal;

import dev.llmgateway.RetryPolicy;
import dev.llmgateway.errors.ConnectionException;
import dev.llmgateway.errors.ErrorDetails;
import dev.llmgateway.errors.GatewayException;
import dev.llmgateway.errors.TimeoutException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Sends {@link ApiRequest}s: authentication, JSON, timeouts, retries within the {@link
 * RetryPolicy}'s budget, and error answers turned into typed exceptions.
 */
public final class Transport {
    private final String baseUrl;
    private final String credential;
    private final Duration timeout;
    private final RetryPolicy retry;
    private final HttpClient http;
    private final String userAgent;
    private final Sleeper sleeper;

    /** How the transport waits between attempts (replaceable in tests). */
    @FunctionalInterface
    public interface Sleeper {
        void sleep(Duration d) throws InterruptedException;
    }

    public Transport(String baseUrl, String credential, Duration timeout, RetryPolicy retry,
            HttpClient http, String userAgent, Sleeper sleeper) {
        this.baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
        this.credential = credential;
        this.timeout = timeout;
        this.retry = retry;
        this.http = http;
        this.userAgent = userAgent;
        this.sleeper = sleeper;
    }

    public String baseUrl() {
        return baseUrl;
    }

    /** What one attempt came to: an answer to return, or a failure and whether to retry it. */
    private record Outcome(ApiResponse response, GatewayException failure, boolean retryable) {}

    /** Sends {@code request}; a 2xx answer is returned, anything else thrown as a typed exception. */
    public ApiResponse send(ApiRequest request) {
        HttpRequest httpRequest = build(request);
        Duration waited = Duration.ZERO;
        for (int attempt = 1; ; attempt++) {
            Outcome outcome;
            try {
                outcome = answered(request, http.send(httpRequest, HttpResponse.BodyHandlers.ofByteArray()), attempt);
            } catch (IOException e) {
                outcome = failed(request, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ConnectionException(ErrorDetails.noAnswer("Interrupted while calling the gateway.", e));
            }
            if (outcome.response != null) {
                return outcome.response;
            }
            Duration wait = nextWait(outcome, attempt, waited);
            if (wait == null) {
                throw outcome.failure;
            }
            try {
                sleeper.sleep(wait);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw outcome.failure;
            }
            waited = waited.plus(wait);
        }
    }

    /**
     * {@link #send} without blocking a thread: the same retries and budget, the waits scheduled
     * on {@link CompletableFuture#delayedExecutor}. The future fails with the typed exception.
     */
    public CompletableFuture<ApiResponse> sendAsync(ApiRequest request) {
        CompletableFuture<ApiResponse> result = new CompletableFuture<>();
        attemptAsync(request, build(request), 1, Duration.ZERO, result);
        return result;
    }

    private void attemptAsync(ApiRequest request, HttpRequest httpRequest, int attempt, Duration waited,
            CompletableFuture<ApiResponse> result) {
        http.sendAsync(httpRequest, HttpResponse.BodyHandlers.ofByteArray()).whenComplete((resp, error) -> {
            Outcome outcome;
            if (resp != null) {
                outcome = answered(request, resp, attempt);
            } else {
                Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
                outcome = cause instanceof IOException io
                        ? failed(request, io)
                        : new Outcome(null, new ConnectionException(ErrorDetails.noAnswer(
                                "The call to the gateway failed: " + describe(cause), cause)), false);
            }
            if (outcome.response != null) {
                result.complete(outcome.response);
                return;
            }
            Duration wait = nextWait(outcome, attempt, waited);
            if (wait == null) {
                result.completeExceptionally(outcome.failure);
                return;
            }
            CompletableFuture.delayedExecutor(wait.toMillis(), TimeUnit.MILLISECONDS)
                    .execute(() -> attemptAsync(request, httpRequest, attempt + 1, waited.plus(wait), result));
        });
    }

    private Outcome answered(ApiRequest request, HttpResponse<byte[]> resp, int attempt) {
        int status = resp.statusCode();
        if (status >= 200 && status < 300) {
            return new Outcome(new ApiResponse(status, resp.headers(), resp.body(), attempt), null, false);
        }
        boolean recorded = request.recordedAnswersFinal && resp.headers().firstValue("x-gateway-async-status").isPresent();
        boolean retryable = !recorded && (status == 429 || status == 503
                || (request.safeToRepeat && (status == 408 || status == 502 || status == 504)));
        return new Outcome(null, Errors.fromAnswer(status, resp.headers(), resp.body()), retryable);
    }

    private Outcome failed(ApiRequest request, IOException e) {
        if (e instanceof HttpConnectTimeoutException || e instanceof ConnectException) {
            // Nothing reached the gateway: repeating is safe whatever the request.
            return new Outcome(null, new ConnectionException(ErrorDetails.noAnswer(
                    "Cannot connect to the gateway at " + baseUrl + ": " + describe(e), e)), true);
        }
        if (e instanceof HttpTimeoutException) {
            return new Outcome(null, new TimeoutException(ErrorDetails.noAnswer(
                    "The gateway did not answer " + request.method + " " + request.path + " within "
                            + timeout.toMillis() + " ms.", e)), request.safeToRepeat);
        }
        return new Outcome(null, new ConnectionException(ErrorDetails.noAnswer(
                "The connection to the gateway at " + baseUrl + " failed: " + describe(e), e)), request.safeToRepeat);
    }

    /** The wait before the next attempt, or null when the failure is final (not retryable,
     * out of retries, or the wait would overrun the budget). */
    private Duration nextWait(Outcome outcome, int attempt, Duration waited) {
        if (!outcome.retryable || attempt > retry.maxRetries()) {
            return null;
        }
        Duration wait = outcome.failure.retryAfter()
                .orElseGet(() -> retry.backoff(attempt, ThreadLocalRandom.current().nextDouble()));
        return waited.plus(wait).compareTo(retry.maxTotalWait()) > 0 ? null : wait;
    }

    private HttpRequest build(ApiRequest request) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl + request.pathAndQuery()))
                .timeout(timeout)
                .header("accept", "application/json")
                .header("user-agent", userAgent);
        request.headers.forEach(b::header);
        if (credential != null && !credential.isEmpty()) {
            b.header("authorization", "Bearer " + credential);
        }
        if (request.body != null) {
            b.header("content-type", "application/json");
            b.method(request.method, HttpRequest.BodyPublishers.ofByteArray(Json.write(request.body)));
        } else {
            b.method(request.method, HttpRequest.BodyPublishers.noBody());
        }
        return b.build();
    }

    private static String describe(Throwable e) {
        String m = e.getMessage();
        return m == null || m.isEmpty() ? e.getClass().getSimpleName() : m;
    }
}
