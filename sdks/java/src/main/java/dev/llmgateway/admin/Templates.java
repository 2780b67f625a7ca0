package dev.llmgateway.admin;

import static dev.llmgateway.internal.ApiRequest.segment;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgateway.internal.ApiRequest;
import dev.llmgateway.internal.Json;
import dev.llmgateway.internal.Transport;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code /admin/v1/templates}: a tenant's versioned prompt templates (docs/templates.md) —
 * create (or add a version), list, get (latest with its history, or one version), delete,
 * render as a dry run — with the read-only built-in ones ({@code builtin.*}). A {@code null}
 * tenant means the caller's own. Answers are the gateway's JSON.
 */
public final class Templates {
    private static final String PATH = "/admin/v1/templates";
    private final Transport transport;

    public Templates(Transport transport) {
        this.transport = transport;
    }

    private JsonNode send(ApiRequest request) {
        return Json.tree(transport.send(request).body());
    }

    private static String path(String id, String rest) {
        return PATH + "/" + segment(id) + rest;
    }

    /**
     * Creates template {@code definition.id} (version 1), or its next version: the fields of
     * {@code POST /admin/v1/templates} ({@code id}, {@code tenant}, {@code description},
     * {@code messages} or {@code prompt}, {@code variables}). The same definition again
     * answers the stored version.
     */
    public JsonNode create(Map<String, ?> definition) {
        return send(ApiRequest.post(PATH, definition));
    }

    /** The latest version of each of the tenant's templates, then the built-in ones. */
    public List<JsonNode> list(String tenant) {
        JsonNode data = send(ApiRequest.get(PATH).query("tenant", tenant)).path("data");
        List<JsonNode> out = new ArrayList<>();
        data.forEach(out::add);
        return out;
    }

    public List<JsonNode> list() {
        return list(null);
    }

    /** The latest version, with {@code versions} (the history). */
    public JsonNode get(String id, String tenant) {
        return send(ApiRequest.get(path(id, "")).query("tenant", tenant));
    }

    public JsonNode getVersion(String id, int version, String tenant) {
        return send(ApiRequest.get(path(id, "/versions/" + version)).query("tenant", tenant));
    }

    /** Deletes every version. */
    public JsonNode delete(String id, String tenant) {
        return send(ApiRequest.delete(path(id, "")).query("tenant", tenant));
    }

    /** The messages a call naming the template would send (a dry run); {@code version} null: the latest. */
    public JsonNode render(String id, Map<String, ?> variables, Integer version, String tenant) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("variables", variables == null ? Map.of() : variables);
        if (version != null) {
            body.put("version", version);
        }
        return send(ApiRequest.idempotentPost(path(id, "/render"), body).query("tenant", tenant));
    }
}
