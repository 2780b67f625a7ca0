package dev.llmgateway.admin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgateway.internal.ApiRequest;
import dev.llmgateway.internal.Json;
import dev.llmgateway.internal.Transport;
import dev.llmgateway.model.DeploymentState;
import java.util.ArrayList;
import java.util.List;

/** {@code GET /admin/v1/deployments}: every deployment's circuit, latency and load, now. */
public final class Deployments {
    private final Transport transport;

    public Deployments(Transport transport) {
        this.transport = transport;
    }

    public List<DeploymentState> list() {
        JsonNode data = Json.tree(transport.send(ApiRequest.get("/admin/v1/deployments")).body()).path("data");
        List<DeploymentState> out = new ArrayList<>();
        data.forEach(node -> out.add(Json.convert(node, DeploymentState.class)));
        return out;
    }
}
