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
 * {@code /admin/v1/backups}: encrypted backups of the gateway's store (docs/operations.md). Take
 * one now into the gateway's {@code [backup] dir}, list the archives there with their manifests,
 * or read one. Admins only. Verifying and restoring an archive are offline operations
 * ({@code gatewayctl backup verify|restore}), not API calls. Answers are the gateway's JSON
 * ({@code id}, {@code size_bytes}, {@code manifest}, {@code error}).
 */
public final class Backups {
    private static final String PATH = "/admin/v1/backups";
    private final Transport transport;

    public Backups(Transport transport) {
        this.transport = transport;
    }

    /** Takes a backup now (a consistent snapshot of every table, encrypted). */
    public JsonNode create() {
        return Json.tree(transport.send(ApiRequest.post(PATH, Map.of())).body());
    }

    /** The archives in the gateway's backup directory, newest first. */
    public List<JsonNode> list() {
        JsonNode data = Json.tree(transport.send(ApiRequest.get(PATH)).body()).path("data");
        List<JsonNode> out = new ArrayList<>();
        data.forEach(out::add);
        return out;
    }

    /** One archive and its manifest. */
    public JsonNode get(String id) {
        return Json.tree(transport.send(ApiRequest.get(PATH + "/" + segment(id))).body());
    }
}
