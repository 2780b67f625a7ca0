package dev.llmgateway.inference;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A chat completion request in OpenAI's format: a model, messages, and any other field of the
 * chat completions API ({@code temperature}, {@code max_tokens}, {@code tools}...) through
 * {@link #param}. Streaming is for the OpenAI SDKs; this helper asks for one whole answer.
 */
public final class ChatRequest {
    private final String model;
    private final List<Map<String, Object>> messages = new ArrayList<>();
    private final Map<String, Object> params = new LinkedHashMap<>();

    private ChatRequest(String model) {
        this.model = Objects.requireNonNull(model, "model");
    }

    public static ChatRequest model(String model) {
        return new ChatRequest(model);
    }

    public ChatRequest system(String content) {
        return message("system", content);
    }

    public ChatRequest user(String content) {
        return message("user", content);
    }

    public ChatRequest assistant(String content) {
        return message("assistant", content);
    }

    public ChatRequest message(String role, String content) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content);
        messages.add(m);
        return this;
    }

    public ChatRequest temperature(double t) {
        return param("temperature", t);
    }

    public ChatRequest maxTokens(int n) {
        return param("max_tokens", n);
    }

    /** Any other field of the request body, sent as given (a Map or List becomes JSON). */
    public ChatRequest param(String name, Object value) {
        if (name.equals("model") || name.equals("messages") || name.equals("stream")) {
            throw new IllegalArgumentException("'" + name + "' is set by the helper itself");
        }
        params.put(name, value);
        return this;
    }

    Map<String, Object> body() {
        Map<String, Object> body = new LinkedHashMap<>(params);
        body.put("model", model);
        body.put("messages", messages);
        return body;
    }
}
