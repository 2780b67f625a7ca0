package dev.llmgateway.errors;

/** 429: a rate, token, concurrency or budget limit was reached ({@code rate_limit_exceeded}); {@link #retryAfter()} says when to try again. */
public class RateLimitException extends GatewayException {
    private static final long serialVersionUID = 1L;

    public RateLimitException(ErrorDetails details) {
        super(details);
    }
}
