package dev.llmgateway.inference;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgateway.internal.ApiRequest;
import dev.llmgateway.internal.Json;
import dev.llmgateway.internal.Transport;
import dev.llmgateway.model.ModelInfo;
import java.util.ArrayList;
import java.util.List;

/** {@code GET /v1/models}: the public model names the caller's key may use. */
public final class Models {
    private final Transport transport;

    public Models(Transport transport) {
        this.transport = transport;
    }

    public List<ModelInfo> list() {
        JsonNode data = Json.tree(transport.send(ApiRequest.get("/v1/models")).body()).path("data");
        List<ModelInfo> out = new ArrayList<>();
        data.forEach(node -> out.add(Json.convert(node, ModelInfo.class)));
        return out;
    }
}
