package dev.llmgateway.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgateway.errors.AuthenticationException;
import dev.llmgateway.errors.BadRequestException;
import dev.llmgateway.errors.ErrorDetails;
import dev.llmgateway.errors.GatewayException;
import dev.llmgateway.errors.InternalServerException;
import dev.llmgateway.errors.NotFoundException;
import dev.llmgateway.errors.PayloadTooLargeException;
import dev.llmgateway.errors.PermissionDeniedException;
import dev.llmgateway.errors.PolicyViolationException;
import dev.llmgateway.errors.RateLimitException;
import dev.llmgateway.errors.RequestTimeoutException;
import dev.llmgateway.errors.ServerException;
import dev.llmgateway.errors.ServiceUnavailableException;
import dev.llmgateway.errors.UpstreamException;
import dev.llmgateway.errors.UpstreamTimeoutException;
import java.io.IOException;
import java.net.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/** Turns an error answer into the typed exception of its status. */
final class Errors {
    /** How much of a non-JSON error body goes into a message. */
    private static final int MAX_RAW_MESSAGE = 300;

    private Errors() {}

    static GatewayException fromAnswer(int status, HttpHeaders headers, byte[] body) {
        String message = null;
        String type = null;
        String code = null;
        String param = null;
        try {
            JsonNode error = Json.MAPPER.readTree(body).path("error");
            // OpenAI shape {"error": {...}} and Anthropic shape {"type": "error", "error": {...}}.
            message = text(error.get("message"));
            type = text(error.get("type"));
            code = text(error.get("code"));
            param = text(error.get("param"));
        } catch (IOException | RuntimeException notJson) {
            // Not the gateway's JSON (a proxy in between, say): keep the start of the text.
        }
        if (message == null) {
            String raw = new String(body, StandardCharsets.UTF_8).strip();
            if (raw.length() > MAX_RAW_MESSAGE) {
                raw = raw.substring(0, MAX_RAW_MESSAGE) + "...";
            }
            message = "The gateway answered HTTP " + status + (raw.isEmpty() ? "." : ": " + raw);
        }
        ErrorDetails details = new ErrorDetails(
                status, message, type, code, param,
                headers.firstValue("x-request-id").orElse(null), retryAfter(headers), null);
        return switch (status) {
            case 400 -> new BadRequestException(details);
            case 401 -> new AuthenticationException(details);
            case 403 -> new PermissionDeniedException(details);
            case 404 -> new NotFoundException(details);
            case 408 -> new RequestTimeoutException(details);
            case 413 -> new PayloadTooLargeException(details);
            case 422 -> new PolicyViolationException(details);
            case 429 -> new RateLimitException(details);
            case 500 -> new InternalServerException(details);
            case 503 -> new ServiceUnavailableException(details);
            case 504 -> new UpstreamTimeoutException(details);
            default -> {
                if ("upstream_error".equals(code) || status == 502) {
                    yield new UpstreamException(details);
                }
                yield status >= 500 ? new ServerException(details) : new GatewayException(details);
            }
        };
    }

    /** {@code retry-after-ms} when present, else {@code retry-after} in seconds or as an HTTP date. */
    static Duration retryAfter(HttpHeaders headers) {
        String millis = headers.firstValue("retry-after-ms").orElse(null);
        if (millis != null) {
            try {
                double ms = Double.parseDouble(millis.strip());
                if (ms >= 0 && Double.isFinite(ms)) {
                    return Duration.ofMillis((long) Math.ceil(ms));
                }
            } catch (NumberFormatException ignored) {
                // fall through to retry-after
            }
        }
        String value = headers.firstValue("retry-after").orElse(null);
        if (value == null) {
            return null;
        }
        try {
            double secs = Double.parseDouble(value.strip());
            return secs >= 0 && Double.isFinite(secs) ? Duration.ofMillis((long) Math.ceil(secs * 1000)) : null;
        } catch (NumberFormatException notSeconds) {
            try {
                ZonedDateTime at = ZonedDateTime.parse(value.strip(), DateTimeFormatter.RFC_1123_DATE_TIME);
                Duration d = Duration.between(ZonedDateTime.now(at.getZone()), at);
                return d.isNegative() ? Duration.ZERO : d;
            } catch (DateTimeParseException notADate) {
                return null;
            }
        }
    }

    private static String text(JsonNode node) {
        return node == null || node.isNull() ? null : node.asText();
    }
}
