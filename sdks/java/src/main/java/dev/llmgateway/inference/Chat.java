package dev.llmgateway.inference;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgateway.internal.ApiRequest;
import dev.llmgateway.internal.ApiResponse;
import dev.llmgateway.internal.Json;
import dev.llmgateway.internal.Transport;
import java.util.concurrent.CompletableFuture;

/**
 * A thin helper over {@code POST /v1/chat/completions}: one call, the answer plus the gateway's
 * metadata. For streaming, tools and the rest of the API, point the official OpenAI Java SDK
 * at {@code baseUrl + "/v1"} with a gateway key; this helper exists for the metadata.
 */
public final class Chat {
    private final Transport transport;

    public Chat(Transport transport) {
        this.transport = transport;
    }

    /** One user message to {@code model}. */
    public ChatResult complete(String model, String userMessage) {
        return complete(ChatRequest.model(model).user(userMessage));
    }

    public ChatResult complete(ChatRequest request) {
        return result(transport.send(ApiRequest.post("/v1/chat/completions", request.body())));
    }

    /** {@link #complete(ChatRequest)} without blocking a thread; the future fails with the typed exception. */
    public CompletableFuture<ChatResult> completeAsync(ChatRequest request) {
        return transport.sendAsync(ApiRequest.post("/v1/chat/completions", request.body())).thenApply(Chat::result);
    }

    private static ChatResult result(ApiResponse resp) {
        JsonNode body = Json.tree(resp.body());
        JsonNode choice = body.path("choices").path(0);
        JsonNode usage = body.path("usage");
        return new ChatResult(
                choice.path("message").path("content").asText(null),
                choice.path("finish_reason").asText(null),
                new ChatResult.Usage(
                        usage.path("prompt_tokens").asLong(),
                        usage.path("completion_tokens").asLong(),
                        usage.path("total_tokens").asLong()),
                body,
                ResponseMetadata.from(resp.headers(), resp.attempts()));
    }
}
