package dev.llmgateway.admin;

import static dev.llmgateway.internal.ApiRequest.segment;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgateway.internal.ApiRequest;
import dev.llmgateway.internal.Json;
import dev.llmgateway.internal.Transport;
import dev.llmgateway.model.Limits;
import dev.llmgateway.model.Tenant;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code /admin/v1/tenants}. Creating, changing and deleting needs the {@code admin} role;
 * reading needs {@code read_tenants} (a tenant admin reads its own tenant).
 */
public final class Tenants {
    private static final String PATH = "/admin/v1/tenants";
    private final Transport transport;

    public Tenants(Transport transport) {
        this.transport = transport;
    }

    /** Creates a tenant; a duplicate id throws {@code BadRequestException} with code {@code already_exists}. */
    public Tenant create(TenantCreate body) {
        return transport.send(ApiRequest.post(PATH, body.fields)).json(Tenant.class);
    }

    /** Every tenant the caller may see (an admin: all; a tenant admin: its own). */
    public List<Tenant> list() {
        JsonNode data = Json.tree(transport.send(ApiRequest.get(PATH)).body()).path("data");
        List<Tenant> out = new ArrayList<>();
        data.forEach(node -> out.add(Json.convert(node, Tenant.class)));
        return out;
    }

    public Tenant get(String id) {
        return transport.send(ApiRequest.get(PATH + "/" + segment(id))).json(Tenant.class);
    }

    public Tenant update(String id, TenantUpdate body) {
        return transport.send(ApiRequest.patch(PATH + "/" + segment(id), body.fields)).json(Tenant.class);
    }

    /** Replaces all the tenant's limits. */
    public Tenant setLimits(String id, Limits limits) {
        return update(id, TenantUpdate.create().limits(limits));
    }

    /** Disables the tenant: every key of it, and every JWT naming it, is refused at once. */
    public Tenant disable(String id) {
        return update(id, TenantUpdate.create().enabled(false));
    }

    public Tenant enable(String id) {
        return update(id, TenantUpdate.create().enabled(true));
    }

    /** Deletes the tenant and its keys; its usage and audit records are kept. */
    public void delete(String id) {
        transport.send(ApiRequest.delete(PATH + "/" + segment(id)));
    }
}
