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
import java.util.concurrent.ThreadLocalRandom;

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

    /** Sends {@code request}; a 2xx answer is returned, anything else thrown as a typed exception. */
    public ApiResponse send(ApiRequest request) {
        HttpRequest httpRequest = build(request);
        Duration waited = Duration.ZERO;
        for (int attempt = 1; ; attempt++) {
            GatewayException failure;
            boolean retryable;
            try {
                HttpResponse<byte[]> resp = http.send(httpRequest, HttpResponse.BodyHandlers.ofByteArray());
                int status = resp.statusCode();
                if (status >= 200 && status < 300) {
                    return new ApiResponse(status, resp.headers(), resp.body(), attempt);
                }
                failure = Errors.fromAnswer(status, resp.headers(), resp.body());
                retryable = status == 429 || status == 503
                        || (request.safeToRepeat && (status == 408 || status == 502 || status == 504));
            } catch (HttpConnectTimeoutException | ConnectException e) {
                // Nothing reached the gateway: repeating is safe whatever the request.
                failure = new ConnectionException(ErrorDetails.noAnswer(
                        "Cannot connect to the gateway at " + baseUrl + ": " + describe(e), e));
                retryable = true;
            } catch (HttpTimeoutException e) {
                failure = new TimeoutException(ErrorDetails.noAnswer(
                        "The gateway did not answer " + request.method + " " + request.path + " within "
                                + timeout.toMillis() + " ms.", e));
                retryable = request.safeToRepeat;
            } catch (IOException e) {
                failure = new ConnectionException(ErrorDetails.noAnswer(
                        "The connection to the gateway at " + baseUrl + " failed: " + describe(e), e));
                retryable = request.safeToRepeat;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ConnectionException(ErrorDetails.noAnswer("Interrupted while calling the gateway.", e));
            }
            if (!retryable || attempt > retry.maxRetries()) {
                throw failure;
            }
            int retryNumber = attempt;
            Duration wait = failure.retryAfter()
                    .orElseGet(() -> retry.backoff(retryNumber, ThreadLocalRandom.current().nextDouble()));
            if (waited.plus(wait).compareTo(retry.maxTotalWait()) > 0) {
                throw failure;
            }
            try {
                sleeper.sleep(wait);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw failure;
            }
            waited = waited.plus(wait);
        }
    }

    private HttpRequest build(ApiRequest request) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl + request.pathAndQuery()))
                .timeout(timeout)
                .header("accept", "application/json")
                .header("user-agent", userAgent);
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
