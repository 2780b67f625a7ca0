package dev.llmgateway.admin;

import dev.llmgateway.inference.Guardrails.Direction;
import dev.llmgateway.internal.ApiRequest;
import dev.llmgateway.internal.Transport;
import dev.llmgateway.model.Caller;
import dev.llmgateway.model.GuardrailVerdict;
import dev.llmgateway.model.RunningConfig;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the admin API tells an operator's tools about the caller and the running gateway: {@code
 * GET /admin/v1/me}, {@code GET /admin/v1/config} (every secret redacted) and {@code POST
 * /admin/v1/guardrails/check} (any tenant's guardrails, for an admin credential).
 */
public final class Console {
    private final Transport transport;

    public Console(Transport transport) {
        this.transport = transport;
    }

    /** Who the admin credential is: subject, tenant, roles and permissions. */
    public Caller me() {
        return transport.send(ApiRequest.get("/admin/v1/me")).json(Caller.class);
    }

    /** The running configuration as TOML, every secret redacted (needs {@code manage_config}). */
    public RunningConfig config() {
        return transport.send(ApiRequest.get("/admin/v1/config")).json(RunningConfig.class);
    }

    /** {@code tenant}'s guardrails (null: the caller's) on {@code text}, without a model call. */
    public GuardrailVerdict checkGuardrails(String text, String tenant, Direction direction) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("text", text);
        body.put("direction", direction == Direction.OUTPUT ? "output" : "input");
        if (tenant != null) {
            body.put("tenant", tenant);
        }
        // A check changes nothing, so it is safe to repeat after an ambiguous failure.
        return transport.send(ApiRequest.idempotentPost("/admin/v1/guardrails/check", body)).json(GuardrailVerdict.class);
    }
}
