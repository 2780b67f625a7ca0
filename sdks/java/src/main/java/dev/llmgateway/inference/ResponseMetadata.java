package dev.llmgateway.inference;

import java.net.http.HttpHeaders;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * What the gateway says about how it served a call, from its response headers: {@code
 * x-request-id}, {@code x-gateway-provider} and {@code x-gateway-model} (the deployment that
 * answered), {@code x-gateway-attempts} (upstream attempts, fallbacks included), {@code
 * x-gateway-cache} ({@code hit}, {@code miss} or {@code bypass}), {@code x-gateway-region},
 * {@code x-gateway-dropped-params} (request parameters the provider had no form for, left out)
 * and the rate-limit headers. {@code sdkAttempts} counts the HTTP attempts this SDK made (its retries).
 */
public record ResponseMetadata(
        String requestId,
        Optional<String> provider,
        Optional<String> model,
        Optional<Integer> attempts,
        Optional<String> cache,
        Optional<String> region,
        List<String> droppedParams,
        RateLimitHeaders rateLimits,
        int sdkAttempts) {

    static ResponseMetadata from(HttpHeaders h, int sdkAttempts) {
        return new ResponseMetadata(
                h.firstValue("x-request-id").orElse(null),
                h.firstValue("x-gateway-provider"),
                h.firstValue("x-gateway-model"),
                h.firstValue("x-gateway-attempts").flatMap(ResponseMetadata::integer),
                h.firstValue("x-gateway-cache"),
                h.firstValue("x-gateway-region"),
                h.firstValue("x-gateway-dropped-params").map(ResponseMetadata::names).orElse(List.of()),
                RateLimitHeaders.from(h),
                sdkAttempts);
    }

    /** Whether the answer came from the gateway's response cache. */
    public boolean cacheHit() {
        return cache.map("hit"::equals).orElse(false);
    }

    private static List<String> names(String v) {
        return Arrays.stream(v.split(",")).map(String::strip).filter(n -> !n.isEmpty()).toList();
    }

    private static Optional<Integer> integer(String v) {
        try {
            return Optional.of(Integer.parseInt(v.strip()));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }
}
