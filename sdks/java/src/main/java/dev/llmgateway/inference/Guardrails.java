package dev.llmgateway.inference;

import dev.llmgateway.internal.ApiRequest;
import dev.llmgateway.internal.Transport;
import dev.llmgateway.model.GuardrailVerdict;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * {@code POST /v1/guardrails/check}: runs the caller's tenant's guardrails on a text without
 * calling a model, e.g. to vet a document before putting it in a prompt.
 */
public final class Guardrails {
    /** Whether the text is checked as a request (input) or as a model's answer (output). */
    public enum Direction {
        INPUT, OUTPUT
    }

    private final Transport transport;

    public Guardrails(Transport transport) {
        this.transport = transport;
    }

    public GuardrailVerdict check(String text) {
        return check(text, Direction.INPUT);
    }

    public GuardrailVerdict check(String text, Direction direction) {
        return transport.send(request(text, direction)).json(GuardrailVerdict.class);
    }

    /** {@link #check(String, Direction)} without blocking a thread. */
    public CompletableFuture<GuardrailVerdict> checkAsync(String text, Direction direction) {
        return transport.sendAsync(request(text, direction)).thenApply(r -> r.json(GuardrailVerdict.class));
    }

    private static ApiRequest request(String text, Direction direction) {
        Map<String, String> body = Map.of("text", text, "direction", direction == Direction.INPUT ? "input" : "output");
        // A check changes nothing, so it is safe to repeat after an ambiguous failure.
        return ApiRequest.idempotentPost("/v1/guardrails/check", body);
    }
}
