package dev.llmgateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmgateway.admin.TenantCreate;
import dev.llmgateway.admin.TenantUpdate;
import dev.llmgateway.errors.AuthenticationException;
import dev.llmgateway.errors.BadRequestException;
import dev.llmgateway.errors.NotFoundException;
import dev.llmgateway.model.Limits;
import dev.llmgateway.model.Tenant;
import dev.llmgateway.support.BaseUrl;
import dev.llmgateway.support.Gateway;
import dev.llmgateway.support.GatewayExtension;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Tenants against the real gateway: create, read, update, limits, enable/disable, delete, errors. */
@ExtendWith(GatewayExtension.class)
class TenantsTest {
    static String url;
    static GatewayClient admin;

    @BeforeAll
    static void start(@BaseUrl String baseUrl) {
        url = baseUrl;
        admin = Gateway.admin(baseUrl);
    }

    @Test
    void lifecycle() {
        String id = Gateway.uniqueTenant("acme");
        Tenant created = admin.tenants().create(TenantCreate.id(id).name("Acme Corp")
                .allowedModels(List.of("demo"))
                .limits(Limits.builder().rpm(600).budgetUsdDaily(5.0).build()));
        assertEquals(id, created.id());
        assertEquals("Acme Corp", created.name());
        assertTrue(created.enabled());
        assertEquals(List.of("demo"), created.allowedModels());
        assertEquals(600L, created.limits().rpm());
        assertEquals(5.0, created.limits().budgetUsdDaily());
        assertNull(created.limits().tpm());
        assertTrue(created.createdAtInstant().getEpochSecond() > 0);

        assertEquals(created, admin.tenants().get(id));
        assertTrue(admin.tenants().list().stream().anyMatch(t -> t.id().equals(id)));

        Tenant renamed = admin.tenants().update(id, TenantUpdate.create().name("Acme Inc").clearAllowedModels());
        assertEquals("Acme Inc", renamed.name());
        assertNull(renamed.allowedModels(), "an explicit null clears the list");
        assertEquals(600L, renamed.limits().rpm(), "fields not sent stay as they were");

        Tenant limited = admin.tenants().setLimits(id, Limits.builder().tpm(1000).build());
        assertEquals(1000L, limited.limits().tpm());
        assertNull(limited.limits().rpm(), "limits are replaced whole");

        assertFalse(admin.tenants().disable(id).enabled());
        assertTrue(admin.tenants().enable(id).enabled());

        admin.tenants().delete(id);
        NotFoundException gone = assertThrows(NotFoundException.class, () -> admin.tenants().get(id));
        assertEquals(404, gone.status());
        assertTrue(gone.getMessage().contains(id), gone.getMessage());
        assertTrue(gone.requestId().isPresent(), "errors carry the request id");
    }

    @Test
    void duplicateAndInvalidIdsAreBadRequests() {
        String id = Gateway.uniqueTenant("dup");
        admin.tenants().create(TenantCreate.id(id));
        BadRequestException dup = assertThrows(BadRequestException.class, () -> admin.tenants().create(TenantCreate.id(id)));
        assertEquals("already_exists", dup.code().orElse(null));
        BadRequestException bad = assertThrows(BadRequestException.class,
                () -> admin.tenants().create(TenantCreate.id("no spaces/allowed")));
        assertEquals("id", bad.param().orElse(null));
        assertEquals("invalid_request_error", bad.type().orElse(null));
    }

    @Test
    void wrongTokenIsAuthenticationError() {
        AuthenticationException e = assertThrows(AuthenticationException.class,
                () -> Gateway.client(url, "not-the-admin-token-at-all").tenants().list());
        assertEquals(401, e.status());
        assertEquals("invalid_api_key", e.code().orElse(null));
    }
}
