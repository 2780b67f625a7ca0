package dev.llmgateway.inference;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The answer of a chat completion: the first choice's text, why it stopped, token usage, the
 * whole OpenAI-format response, and the gateway's {@link ResponseMetadata}.
 */
public record ChatResult(
        String answer, String finishReason, Usage usage, JsonNode response, ResponseMetadata metadata) {

    /** Token counts as the gateway reports them. */
    public record Usage(long promptTokens, long completionTokens, long totalTokens) {}
}
