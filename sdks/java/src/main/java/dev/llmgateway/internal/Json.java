package dev.llmgateway.internal;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.llmgateway.errors.ErrorDetails;
import dev.llmgateway.errors.GatewayException;
import java.io.IOException;

/**
 * The one Jackson {@link ObjectMapper} of the SDK. Unknown fields in answers are ignored, so a
 * newer gateway that adds fields does not break an older SDK; null properties are not sent, since
 * the gateway treats an explicit {@code null} as "clear"; request bodies are Maps, whose null
 * values are sent on purpose.
 */
public final class Json {
    public static final ObjectMapper MAPPER = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
            .configure(SerializationFeature.FAIL_ON_EMPTY_BEANS, false)
            .setDefaultPropertyInclusion(
                    // Null properties are left out; a null inside a Map is sent (a PATCH "clear").
                    JsonInclude.Value.construct(JsonInclude.Include.NON_NULL, JsonInclude.Include.ALWAYS));

    private Json() {}

    public static byte[] write(Object value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot encode the request body as JSON: " + e.getMessage(), e);
        }
    }

    public static <T> T read(byte[] body, Class<T> type) {
        try {
            return MAPPER.readValue(body, type);
        } catch (IOException e) {
            throw invalidAnswer(e);
        }
    }

    public static <T> T convert(JsonNode node, Class<T> type) {
        try {
            return MAPPER.treeToValue(node, type);
        } catch (IOException e) {
            throw invalidAnswer(e);
        }
    }

    public static JsonNode tree(byte[] body) {
        try {
            return MAPPER.readTree(body);
        } catch (IOException e) {
            throw invalidAnswer(e);
        }
    }

    private static GatewayException invalidAnswer(IOException e) {
        return new GatewayException(new ErrorDetails(
                200, "The gateway's answer is not the JSON this SDK expects: " + e.getMessage(),
                null, null, null, null, null, e));
    }
}
