package dev.llmgateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmgateway.admin.KeyCreate;
import dev.llmgateway.admin.TenantCreate;
import dev.llmgateway.errors.BadRequestException;
import dev.llmgateway.errors.PermissionDeniedException;
import dev.llmgateway.model.CreatedKey;
import dev.llmgateway.support.BaseUrl;
import dev.llmgateway.support.Gateway;
import dev.llmgateway.support.GatewayExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Anomalies against the real gateway: a fresh gateway has raised none (baselines need their
 * warm-up; the detection itself is tested in the gateway's own suite), the tenant filter and the
 * limit are passed through, a limit out of range is refused naming the parameter, and a key
 * without {@code read_keys} may not list.
 */
@ExtendWith(GatewayExtension.class)
class AnomaliesTest {
    @Test
    void listFiltersLimitsAndPermissions(@BaseUrl String url) {
        GatewayClient admin = Gateway.admin(url);
        assertTrue(admin.anomalies().list().isEmpty());
        assertTrue(admin.anomalies().list("acme", 5).isEmpty());
        BadRequestException tooMany = assertThrows(BadRequestException.class, () -> admin.anomalies().list(null, 513));
        assertEquals("limit", tooMany.param().orElse(null));
        String tenant = Gateway.uniqueTenant("anomalies");
        admin.tenants().create(TenantCreate.id(tenant));
        CreatedKey dev = admin.keys().create(KeyCreate.of(tenant, "app").roles("developer"));
        assertThrows(PermissionDeniedException.class, () -> Gateway.client(url, dev.secret()).anomalies().list());
    }
}
