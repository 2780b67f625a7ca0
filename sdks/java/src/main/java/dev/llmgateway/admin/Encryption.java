package dev.llmgateway.admin;

import static dev.llmgateway.internal.ApiRequest.segment;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgateway.internal.ApiRequest;
import dev.llmgateway.internal.Json;
import dev.llmgateway.internal.Transport;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Key management of the encryption of stored content (docs/security.md): a tenant's data-key
 * status ({@code GET /admin/v1/tenants/{id}/encryption}), rotating its data key
 * ({@code .../rotate}), re-encrypting its stored content with the current key
 * ({@code .../reencrypt}), re-wrapping every data key under the current KEK after a KEK change
 * ({@code POST /admin/v1/encryption/rewrap}), and opening sealed content-log fields
 * ({@code .../open}, admins only, audited). Status needs {@code read_keys} on the tenant, rotate
 * and re-encrypt {@code manage_keys} (a tenant admin may, for its own tenant); rewrap and open
 * are for admins. Answers are the gateway's JSON ({@code tenant}, {@code current},
 * {@code versions}, {@code shredded_up_to}, {@code kek_id}, {@code reencrypted}).
 */
public final class Encryption {
    private final Transport transport;

    public Encryption(Transport transport) {
        this.transport = transport;
    }

    private static String path(String tenant, String action) {
        return "/admin/v1/tenants/" + segment(tenant) + "/encryption" + action;
    }

    /** The tenant's data-key versions and the KEK wrapping each (never key material). */
    public JsonNode status(String tenant) {
        return Json.tree(transport.send(ApiRequest.get(path(tenant, ""))).body());
    }

    /** A new data-key version for the tenant's new writes; older content stays readable. */
    public JsonNode rotate(String tenant) {
        return Json.tree(transport.send(ApiRequest.post(path(tenant, "/rotate"), Map.of())).body());
    }

    /** Seals the tenant's stored content again with its current key (counts in {@code reencrypted}). */
    public JsonNode reencrypt(String tenant) {
        return Json.tree(transport.send(ApiRequest.idempotentPost(path(tenant, "/reencrypt"), Map.of())).body());
    }

    /** Re-wraps every data key under the current KEK ({@code kek_id}, {@code rewrapped}, {@code already_current}). */
    public JsonNode rewrap() {
        return Json.tree(transport.send(ApiRequest.idempotentPost("/admin/v1/encryption/rewrap", Map.of())).body());
    }

    /**
     * Opens sealed content-log fields ({@code gwe1:...}, at most 100): one result per value, in
     * order, with {@code status} {@code opened} (and {@code plaintext}), {@code destroyed} or
     * {@code invalid}.
     */
    public List<JsonNode> open(String tenant, List<String> values) {
        JsonNode data = Json.tree(transport.send(ApiRequest.idempotentPost(path(tenant, "/open"), Map.of("values", values))).body())
                .path("data");
        List<JsonNode> out = new ArrayList<>();
        data.forEach(out::add);
        return out;
    }
}
