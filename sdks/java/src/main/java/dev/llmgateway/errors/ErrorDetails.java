package dev.llmgateway.errors;

import java.time.Duration;

/**
 * What is known about a failed call: the HTTP status (0 when there was no answer) and the fields
 * of the gateway's error body.
 */
public record ErrorDetails(
        int status,
        String message,
        String type,
        String code,
        String param,
        String requestId,
        Duration retryAfter,
        Throwable cause) {

    /** A failure without an HTTP answer (connection refused, timeout, interrupted). */
    public static ErrorDetails noAnswer(String message, Throwable cause) {
        return new ErrorDetails(0, message, null, null, null, null, null, cause);
    }
}
