package dev.llmgateway;

import java.time.Duration;
import java.util.Objects;

/**
 * How the SDK retries: at most {@code maxRetries} retries, waiting in all at most {@code
 * maxTotalWait}. A wait the gateway asks for ({@code retry-after-ms} or {@code retry-after}) is
 * honoured as given; without one the wait grows exponentially from {@code initialBackoff} to
 * {@code maxBackoff}, with jitter. A wait that would exceed what is left of the budget is not
 * made: the error is thrown at once, so a caller is never blocked longer than it allowed.
 *
 * <p>What is retried: 429 and 503 always (the gateway refused before doing anything), and a
 * connection that could not be opened; 408, 502, 504 and a broken connection only for requests
 * that are safe to repeat (reads, updates, revocation), never for a create or a rotation, which
 * could happen twice.
 */
public record RetryPolicy(int maxRetries, Duration maxTotalWait, Duration initialBackoff, Duration maxBackoff) {

    /** Two retries within 60 seconds of waiting, backing off from 0.5 s to 8 s. */
    public static final RetryPolicy DEFAULT =
            new RetryPolicy(2, Duration.ofSeconds(60), Duration.ofMillis(500), Duration.ofSeconds(8));

    /** No retry at all: every failure is thrown at once. */
    public static final RetryPolicy NONE = new RetryPolicy(0, Duration.ZERO, Duration.ZERO, Duration.ZERO);

    public RetryPolicy {
        Objects.requireNonNull(maxTotalWait, "maxTotalWait");
        Objects.requireNonNull(initialBackoff, "initialBackoff");
        Objects.requireNonNull(maxBackoff, "maxBackoff");
        if (maxRetries < 0) {
            throw new IllegalArgumentException("maxRetries must be >= 0");
        }
        if (maxTotalWait.isNegative() || initialBackoff.isNegative() || maxBackoff.isNegative()) {
            throw new IllegalArgumentException("durations must not be negative");
        }
    }

    /** The default policy with another number of retries. */
    public static RetryPolicy ofRetries(int maxRetries) {
        return new RetryPolicy(maxRetries, DEFAULT.maxTotalWait, DEFAULT.initialBackoff, DEFAULT.maxBackoff);
    }

    /** This policy with another total waiting budget. */
    public RetryPolicy withMaxTotalWait(Duration budget) {
        return new RetryPolicy(maxRetries, budget, initialBackoff, maxBackoff);
    }

    /** The backoff before retry number {@code retry} (1-based) when the gateway named no wait. */
    public Duration backoff(int retry, double jitter) {
        long base = initialBackoff.toMillis();
        long capped = Math.min(maxBackoff.toMillis(), base << Math.min(retry - 1, 20));
        return Duration.ofMillis(Math.round(capped * (0.5 + 0.5 * jitter)));
    }
}
