package dev.llmgateway.errors;

import java.time.Duration;
import java.util.Optional;

/**
 * Base of every error the SDK throws. An error the gateway answered carries its HTTP status and
 * the fields of its OpenAI-shaped body ({@code {"error": {"message", "type", "code", "param"}}});
 * a failure to reach the gateway ({@link ConnectionException}, {@link TimeoutException}) has
 * status 0.
 */
public class GatewayException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final String type;
    private final String code;
    private final String param;
    private final String requestId;
    private final Duration retryAfter;

    public GatewayException(ErrorDetails details) {
        super(details.message(), details.cause());
        this.status = details.status();
        this.type = details.type();
        this.code = details.code();
        this.param = details.param();
        this.requestId = details.requestId();
        this.retryAfter = details.retryAfter();
    }

    /** The HTTP status, or 0 when the gateway gave no answer. */
    public int status() {
        return status;
    }

    /** The gateway's error {@code type}, e.g. {@code invalid_request_error}. */
    public Optional<String> type() {
        return Optional.ofNullable(type);
    }

    /** The gateway's stable machine-readable {@code code}, e.g. {@code rate_limit_exceeded}. */
    public Optional<String> code() {
        return Optional.ofNullable(code);
    }

    /** The request field the error is about, e.g. {@code model}. */
    public Optional<String> param() {
        return Optional.ofNullable(param);
    }

    /** The {@code x-request-id} of the failed call, to quote in a support request or log search. */
    public Optional<String> requestId() {
        return Optional.ofNullable(requestId);
    }

    /** How long the gateway asked the caller to wait ({@code retry-after-ms} / {@code retry-after}). */
    public Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }
}
