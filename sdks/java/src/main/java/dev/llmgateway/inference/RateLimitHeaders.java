package dev.llmgateway.inference;

import java.net.http.HttpHeaders;
import java.util.OptionalLong;

/**
 * The {@code x-ratelimit-*} headers of an admitted call (OpenAI's naming), for the tightest
 * request and token limits that apply; empty when no limit applies.
 */
public record RateLimitHeaders(
        OptionalLong limitRequests,
        OptionalLong remainingRequests,
        String resetRequests,
        OptionalLong limitTokens,
        OptionalLong remainingTokens,
        String resetTokens) {

    static RateLimitHeaders from(HttpHeaders h) {
        return new RateLimitHeaders(
                number(h, "x-ratelimit-limit-requests"),
                number(h, "x-ratelimit-remaining-requests"),
                h.firstValue("x-ratelimit-reset-requests").orElse(null),
                number(h, "x-ratelimit-limit-tokens"),
                number(h, "x-ratelimit-remaining-tokens"),
                h.firstValue("x-ratelimit-reset-tokens").orElse(null));
    }

    private static OptionalLong number(HttpHeaders h, String name) {
        return h.firstValue(name).map(v -> {
            try {
                return OptionalLong.of(Long.parseLong(v.strip()));
            } catch (NumberFormatException e) {
                return OptionalLong.empty();
            }
        }).orElse(OptionalLong.empty());
    }
}
