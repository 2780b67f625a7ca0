package dev.llmgateway.admin;

import static dev.llmgateway.internal.ApiRequest.segment;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgateway.internal.ApiRequest;
import dev.llmgateway.internal.Json;
import dev.llmgateway.internal.Transport;
import dev.llmgateway.model.ApiKey;
import dev.llmgateway.model.CreatedKey;
import dev.llmgateway.model.Limits;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code /admin/v1/keys}: create (the secret is shown once), list, get, update, limits,
 * disable/enable, rotate, revoke and resume (after a suspension by anomaly detection). A key of a tenant the caller may not see answers 404 like a
 * key that does not exist.
 */
public final class Keys {
    private static final String PATH = "/admin/v1/keys";
    private final Transport transport;

    public Keys(Transport transport) {
        this.transport = transport;
    }

    /** Creates a key; {@link CreatedKey#secret()} is the only copy of its secret. */
    public CreatedKey create(KeyCreate body) {
        return created(transport.send(ApiRequest.post(PATH, body.fields)).body());
    }

    /** Every key the caller may see, oldest first. */
    public List<ApiKey> list() {
        return list(null);
    }

    /** The keys of one tenant, oldest first. */
    public List<ApiKey> list(String tenant) {
        JsonNode data = Json.tree(transport.send(ApiRequest.get(PATH).query("tenant", tenant)).body()).path("data");
        List<ApiKey> out = new ArrayList<>();
        data.forEach(node -> out.add(Json.convert(node, ApiKey.class)));
        return out;
    }

    public ApiKey get(String id) {
        return transport.send(ApiRequest.get(PATH + "/" + segment(id))).json(ApiKey.class);
    }

    public ApiKey update(String id, KeyUpdate body) {
        return transport.send(ApiRequest.patch(PATH + "/" + segment(id), body.fields)).json(ApiKey.class);
    }

    /** Replaces all the key's limits. */
    public ApiKey setLimits(String id, Limits limits) {
        return update(id, KeyUpdate.create().limits(limits));
    }

    /** Disables the key (reversible with {@link #enable}). */
    public ApiKey disable(String id) {
        return update(id, KeyUpdate.create().enabled(false));
    }

    public ApiKey enable(String id) {
        return update(id, KeyUpdate.create().enabled(true));
    }

    /**
     * Issues a new key with the same tenant, name and settings and revokes the old one; the new
     * secret is in the result, {@link CreatedKey#replaces()} names the old key.
     */
    public CreatedKey rotate(String id) {
        return created(transport.send(ApiRequest.post(PATH + "/" + segment(id) + "/rotate", Map.of())).body());
    }

    /** Revokes the key for good (repeating it is harmless). */
    public ApiKey revoke(String id) {
        return transport.send(ApiRequest.idempotentPost(PATH + "/" + segment(id) + "/revoke", Map.of()))
                .json(ApiKey.class);
    }

    /**
     * Enables the key again after anomaly detection suspended it (or it was disabled); a revoked
     * key stays revoked (400). Repeating it is harmless.
     */
    public ApiKey resume(String id) {
        return transport.send(ApiRequest.idempotentPost(PATH + "/" + segment(id) + "/resume", Map.of()))
                .json(ApiKey.class);
    }

    private static CreatedKey created(byte[] body) {
        JsonNode node = Json.tree(body);
        String secret = node.path("secret").asText(null);
        String replaces = node.path("replaces").asText(null);
        return new CreatedKey(Json.convert(node, ApiKey.class), secret, replaces);
    }
}
