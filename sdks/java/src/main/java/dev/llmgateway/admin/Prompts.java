package dev.llmgateway.admin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgateway.internal.ApiRequest;
import dev.llmgateway.internal.Json;
import dev.llmgateway.internal.Transport;
import java.util.Map;

/**
 * {@code /admin/v1/prompts/lint}: the prompt linter (docs/templates.md). Local, explainable
 * findings ({@code rule}, {@code severity}, {@code location}, {@code suggestion}) on a template
 * definition, a call's {@code messages} (with {@code max_tokens}, {@code response_format}) or
 * a plain {@code prompt}.
 */
public final class Prompts {
    private final Transport transport;

    public Prompts(Transport transport) {
        this.transport = transport;
    }

    /** Lints {@code request}: the fields of {@code POST /admin/v1/prompts/lint}. */
    public JsonNode lint(Map<String, ?> request) {
        return Json.tree(transport.send(ApiRequest.idempotentPost("/admin/v1/prompts/lint", request)).body());
    }
}
