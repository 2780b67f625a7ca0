package dev.llmgateway.webhooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The Standard Webhooks specification's published example, and what must be refused. */
class WebhookVerifierTest {
    static final String SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    static final String ID = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    static final long TIMESTAMP = 1614265330L;
    static final byte[] BODY = "{\"test\": 2432232314}".getBytes(StandardCharsets.UTF_8);
    static final String SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    static Clock at(long seconds) {
        return Clock.fixed(Instant.ofEpochSecond(seconds), ZoneOffset.UTC);
    }

    static WebhookVerifier verifier(String... secrets) {
        return new WebhookVerifier(secrets).withClock(at(TIMESTAMP));
    }

    static Map<String, List<String>> headers(String id, String timestamp, String signature) {
        return Map.of("Webhook-Id", List.of(id), "webhook-timestamp", List.of(timestamp), "WEBHOOK-SIGNATURE", List.of(signature));
    }

    @Test
    void theSpecificationExampleSignsAndVerifiesAsPublished() throws Exception {
        assertEquals(SIGNATURE, WebhookVerifier.sign(SECRET, ID, TIMESTAMP, BODY));
        assertEquals(2432232314L, verifier(SECRET).verify(headers(ID, "1614265330", SIGNATURE), BODY).path("test").asLong());
        assertEquals(2432232314L, verifier("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
                .verify(ID, "1614265330", SIGNATURE, BODY).path("test").asLong(), "the prefix is optional");
    }

    @Test
    void anyValidSignatureOfSeveralVerifies() throws Exception {
        String other = "whsec_" + Base64.getEncoder().encodeToString("another-secret-of-24-bytes!!".getBytes(StandardCharsets.UTF_8));
        String otherSignature = WebhookVerifier.sign(other, ID, TIMESTAMP, BODY);
        verifier(SECRET).verify(ID, "1614265330", "v2,abc " + otherSignature + " " + SIGNATURE, BODY);
        verifier(other, SECRET).verify(ID, "1614265330", SIGNATURE, BODY);
        assertThrows(WebhookVerificationException.class,
                () -> verifier(SECRET).verify(ID, "1614265330", otherSignature + " v2," + SIGNATURE.substring(3), BODY));
    }

    @Test
    void tamperingStalenessAndMalformedHeadersAreRefused() throws Exception {
        WebhookVerifier v = verifier(SECRET);
        byte[] changed = "{\"test\": 2432232315}".getBytes(StandardCharsets.UTF_8);
        assertThrows(WebhookVerificationException.class, () -> v.verify(ID, "1614265330", SIGNATURE, changed));
        assertThrows(WebhookVerificationException.class, () -> v.verify("msg_other", "1614265330", SIGNATURE, BODY));
        assertThrows(WebhookVerificationException.class, () -> v.verify(ID, "1614265331", SIGNATURE, BODY));
        assertThrows(WebhookVerificationException.class,
                () -> v.withClock(at(TIMESTAMP + 301)).verify(ID, "1614265330", SIGNATURE, BODY));
        assertThrows(WebhookVerificationException.class,
                () -> v.withClock(at(TIMESTAMP - 301)).verify(ID, "1614265330", SIGNATURE, BODY));
        v.withClock(at(TIMESTAMP + 299)).verify(ID, "1614265330", SIGNATURE, BODY);
        v.withClock(at(TIMESTAMP + 3600)).withTolerance(Duration.ofHours(1)).verify(ID, "1614265330", SIGNATURE, BODY);
        assertThrows(WebhookVerificationException.class, () -> v.verify(ID, "16142653x0", SIGNATURE, BODY));
        assertThrows(WebhookVerificationException.class, () -> v.verify(ID, "1614265330", "v1,not base64!", BODY));
        assertThrows(WebhookVerificationException.class, () -> v.verify(ID, "1614265330", "v1", BODY));
        assertThrows(WebhookVerificationException.class,
                () -> v.verify(Map.of("webhook-id", List.of(ID), "webhook-timestamp", List.of("1614265330")), BODY));
        assertThrows(IllegalArgumentException.class, () -> new WebhookVerifier("whsec_not base64!"));
        assertThrows(IllegalArgumentException.class, () -> new WebhookVerifier());
    }
}
