package dev.llmgateway.internal;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One call to the gateway: method, path (ids already escaped with {@link #segment}), query
 * parameters (absent values are left out), an optional JSON body, and whether repeating it
 * after an ambiguous failure is safe.
 */
public final class ApiRequest {
    final String method;
    final String path;
    final Map<String, String> query = new LinkedHashMap<>();
    final Map<String, String> headers = new LinkedHashMap<>();
    Object body;
    boolean safeToRepeat;
    boolean recordedAnswersFinal;

    private ApiRequest(String method, String path, boolean safeToRepeat) {
        this.method = method;
        this.path = path;
        this.safeToRepeat = safeToRepeat;
    }

    public static ApiRequest get(String path) {
        return new ApiRequest("GET", path, true);
    }

    /** A POST that must not run twice (create, rotate, a model call). */
    public static ApiRequest post(String path, Object body) {
        ApiRequest r = new ApiRequest("POST", path, false);
        r.body = body;
        return r;
    }

    /** A POST whose repetition changes nothing (revoke, cache invalidation). */
    public static ApiRequest idempotentPost(String path, Object body) {
        ApiRequest r = post(path, body);
        r.safeToRepeat = true;
        return r;
    }

    public static ApiRequest patch(String path, Object body) {
        ApiRequest r = new ApiRequest("PATCH", path, true);
        r.body = body;
        return r;
    }

    public static ApiRequest delete(String path) {
        return new ApiRequest("DELETE", path, true);
    }

    /** Sends the request header {@code name: value} (this call only). */
    public ApiRequest header(String name, String value) {
        String lower = name.toLowerCase(java.util.Locale.ROOT);
        if (lower.equals("authorization") || lower.equals("content-type")) {
            throw new IllegalArgumentException("the transport sets " + name);
        }
        headers.put(lower, value);
        return this;
    }

    /**
     * An error answer carrying {@code x-gateway-async-status} is an async job's recorded answer:
     * final, never retried, however retryable its status.
     */
    public ApiRequest recordedAnswersFinal() {
        recordedAnswersFinal = true;
        return this;
    }

    /** Adds {@code name=value} unless {@code value} is null or empty. */
    public ApiRequest query(String name, Object value) {
        if (value != null && !value.toString().isEmpty()) {
            query.put(name, value.toString());
        }
        return this;
    }

    /** One path segment, percent-escaped (so an id can never change the path). */
    public static String segment(String value) {
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException("an id must not be empty");
        }
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }

    String pathAndQuery() {
        if (query.isEmpty()) {
            return path;
        }
        StringBuilder out = new StringBuilder(path).append('?');
        query.forEach((name, value) -> {
            if (out.charAt(out.length() - 1) != '?') {
                out.append('&');
            }
            out.append(URLEncoder.encode(name, StandardCharsets.UTF_8))
                    .append('=')
                    .append(URLEncoder.encode(value, StandardCharsets.UTF_8));
        });
        return out.toString();
    }
}
