package dev.llmgateway.internal;

import java.net.http.HttpHeaders;
import java.time.Duration;
import java.util.Optional;

/** A successful answer: status, headers, body, and how many HTTP attempts it took. */
public record ApiResponse(int status, HttpHeaders headers, byte[] body, int attempts) {

    public <T> T json(Class<T> type) {
        return Json.read(body, type);
    }

    public String header(String name) {
        return headers.firstValue(name).orElse(null);
    }

    /** {@code retry-after-ms} / {@code retry-after}, when the answer has one. */
    public Optional<Duration> retryAfter() {
        return Optional.ofNullable(Errors.retryAfter(headers));
    }
}
