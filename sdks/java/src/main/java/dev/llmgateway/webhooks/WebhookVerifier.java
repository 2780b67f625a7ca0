package dev.llmgateway.webhooks;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgateway.internal.Json;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Verifies the gateway's webhook deliveries (Standard Webhooks): {@code webhook-id}, {@code
 * webhook-timestamp} (unix seconds) and {@code webhook-signature}, space-separated {@code
 * v1,<base64 HMAC-SHA256>} entries of {@code "{id}.{timestamp}.{body}"} keyed by the
 * base64-decoded part of the endpoint's {@code whsec_...} secret (two entries while a rotated-out
 * secret still signs). Comparisons are constant-time; timestamps further than the tolerance
 * (5 minutes by default) from now are refused as replays.
 *
 * <pre>{@code
 * WebhookVerifier verifier = new WebhookVerifier(System.getenv("WEBHOOK_SECRET"));
 * JsonNode event = verifier.verify(exchange.getRequestHeaders(), body); // throws if not genuine
 * }</pre>
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class WebhookVerifier {
    /** The default accepted distance between {@code webhook-timestamp} and now, either way. */
    public static final Duration DEFAULT_TOLERANCE = Duration.ofMinutes(5);
    private static final String PREFIX = "whsec_";
    private static final String HMAC = "HmacSHA256";
    /** Signature entries of one header considered at most (bounds the work per request). */
    private static final int MAX_SIGNATURES = 16;
    private static final Pattern SECONDS = Pattern.compile("[0-9]{1,12}");

    private final List<byte[]> keys;
    private final Duration tolerance;
    private final Clock clock;

    /** A verifier accepting a signature by any of {@code secrets} (several while moving to a rotated one). */
    public WebhookVerifier(String... secrets) {
        this(decode(List.of(secrets)), DEFAULT_TOLERANCE, Clock.systemUTC());
    }

    private WebhookVerifier(List<byte[]> keys, Duration tolerance, Clock clock) {
        if (keys.isEmpty()) {
            throw new IllegalArgumentException("a webhook verifier needs at least one secret");
        }
        this.keys = keys;
        this.tolerance = Objects.requireNonNull(tolerance);
        this.clock = Objects.requireNonNull(clock);
    }

    /** The same verifier with another timestamp tolerance. */
    public WebhookVerifier withTolerance(Duration tolerance) {
        if (tolerance.isNegative()) {
            throw new IllegalArgumentException("tolerance must not be negative");
        }
        return new WebhookVerifier(keys, tolerance, clock);
    }

    /** The same verifier reading "now" from {@code clock} (tests). */
    public WebhookVerifier withClock(Clock clock) {
        return new WebhookVerifier(keys, tolerance, clock);
    }

    /**
     * Verifies a delivery from its request headers (names in any case; e.g. {@code
     * com.sun.net.httpserver.Headers} or a servlet's headers collected in a map) and its raw body
     * exactly as received; returns the payload ({@code type}, {@code timestamp}, {@code data}).
     */
    public JsonNode verify(Map<String, List<String>> headers, byte[] body) throws WebhookVerificationException {
        return verify(header(headers, "webhook-id"), header(headers, "webhook-timestamp"),
                header(headers, "webhook-signature"), body);
    }

    /** Verifies a delivery from the three header values and the raw body; returns the payload. */
    public JsonNode verify(String id, String timestamp, String signature, byte[] body) throws WebhookVerificationException {
        if (id == null || id.isEmpty() || timestamp == null || signature == null || body == null) {
            throw new WebhookVerificationException("missing webhook-id, webhook-timestamp or webhook-signature");
        }
        if (!SECONDS.matcher(timestamp).matches()) {
            throw new WebhookVerificationException("webhook-timestamp is not unix seconds");
        }
        long sent = Long.parseLong(timestamp);
        long now = clock.instant().getEpochSecond();
        if (sent < now - tolerance.getSeconds()) {
            throw new WebhookVerificationException("the delivery is too old (webhook-timestamp)");
        }
        if (sent > now + tolerance.getSeconds()) {
            throw new WebhookVerificationException("the delivery is from the future (webhook-timestamp)");
        }
        List<byte[]> given = new ArrayList<>();
        String[] entries = signature.split(" ");
        for (int i = 0; i < entries.length && i < MAX_SIGNATURES; i++) {
            String entry = entries[i];
            if (!entry.startsWith("v1,")) {
                continue;
            }
            try {
                given.add(Base64.getDecoder().decode(entry.substring(3)));
            } catch (IllegalArgumentException notBase64) {
                // ignored: another entry may be valid
            }
        }
        boolean valid = false;
        for (byte[] key : keys) {
            byte[] expected = mac(key, id, timestamp, body);
            for (byte[] mac : given) {
                valid |= MessageDigest.isEqual(expected, mac);
            }
        }
        if (!valid) {
            throw new WebhookVerificationException("no valid v1 signature for the given secret(s)");
        }
        try {
            return Json.tree(body);
        } catch (RuntimeException notJson) {
            throw new WebhookVerificationException("the signed body is not JSON");
        }
    }

    /** The {@code webhook-signature} entry ({@code v1,<base64>}) of a delivery signed with {@code secret}. */
    public static String sign(String secret, String id, long timestamp, byte[] body) {
        byte[] key = decode(List.of(secret)).get(0);
        return "v1," + Base64.getEncoder().encodeToString(mac(key, id, Long.toString(timestamp), body));
    }

    private static byte[] mac(byte[] key, String id, String timestamp, byte[] body) {
        try {
            Mac mac = Mac.getInstance(HMAC);
            mac.init(new SecretKeySpec(key, HMAC));
            mac.update((id + "." + timestamp + ".").getBytes(StandardCharsets.UTF_8));
            return mac.doFinal(body);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every Java runtime", e);
        }
    }

    private static List<byte[]> decode(List<String> secrets) {
        List<byte[]> out = new ArrayList<>();
        for (String secret : secrets) {
            Objects.requireNonNull(secret, "secret");
            String encoded = secret.startsWith(PREFIX) ? secret.substring(PREFIX.length()) : secret;
            byte[] key;
            try {
                key = Base64.getDecoder().decode(encoded);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("a webhook secret is 'whsec_' followed by base64", e);
            }
            if (key.length == 0) {
                throw new IllegalArgumentException("a webhook secret is 'whsec_' followed by base64");
            }
            out.add(key);
        }
        return List.copyOf(out);
    }

    private static String header(Map<String, List<String>> headers, String name) {
        for (Map.Entry<String, List<String>> e : headers.entrySet()) {
            if (e.getKey() != null && e.getKey().equalsIgnoreCase(name) && e.getValue() != null && !e.getValue().isEmpty()) {
                return String.join(" ", e.getValue());
            }
        }
        return null;
    }
}
