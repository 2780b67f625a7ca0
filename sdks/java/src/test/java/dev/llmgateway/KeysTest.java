package dev.llmgateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmgateway.admin.KeyCreate;
import dev.llmgateway.admin.KeyUpdate;
import dev.llmgateway.admin.TenantCreate;
import dev.llmgateway.errors.AuthenticationException;
import dev.llmgateway.errors.BadRequestException;
import dev.llmgateway.errors.NotFoundException;
import dev.llmgateway.errors.PermissionDeniedException;
import dev.llmgateway.model.ApiKey;
import dev.llmgateway.model.CreatedKey;
import dev.llmgateway.model.Limits;
import dev.llmgateway.support.BaseUrl;
import dev.llmgateway.support.Gateway;
import dev.llmgateway.support.GatewayExtension;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Keys against the real gateway: the secret shown once and working, limits, disable, rotate, revoke. */
@ExtendWith(GatewayExtension.class)
class KeysTest {
    static String url;
    static GatewayClient admin;
    static String tenant;

    @BeforeAll
    static void start(@BaseUrl String baseUrl) {
        url = baseUrl;
        admin = Gateway.admin(baseUrl);
        tenant = Gateway.uniqueTenant("keys");
        admin.tenants().create(TenantCreate.id(tenant));
    }

    private static void chatWorks(String secret) {
        assertNotNull(Gateway.client(url, secret).chat().complete("demo", "ping").answer());
    }

    @Test
    void secretIsShownOnceAndWorks() {
        CreatedKey created = admin.keys().create(KeyCreate.of(tenant, "backend")
                .roles("developer")
                .expiresInDays(30)
                .limits(Limits.builder().rpm(100).build())
                .metadata(Map.of("team", "payments")));
        assertTrue(created.secret().startsWith(created.key().prefix()), "the prefix starts the secret");
        assertFalse(created.toString().contains(created.secret()), "toString never prints the secret");
        ApiKey key = created.key();
        assertEquals(tenant, key.tenant());
        assertEquals("active", key.status());
        assertEquals(List.of("developer"), key.roles());
        assertEquals(100L, key.limits().rpm());
        assertEquals("payments", key.metadata().path("team").asText());
        assertTrue(key.expiresAtInstant().isPresent());

        ApiKey fetched = admin.keys().get(key.id());
        assertEquals(key.id(), fetched.id());
        assertTrue(admin.keys().list(tenant).stream().anyMatch(k -> k.id().equals(key.id())));
        chatWorks(created.secret());
    }

    @Test
    void updateLimitsDisableEnable() {
        CreatedKey created = admin.keys().create(KeyCreate.of(tenant, "batch"));
        String id = created.key().id();
        ApiKey limited = admin.keys().setLimits(id, Limits.builder().tpm(5000).maxConcurrency(2).build());
        assertEquals(5000L, limited.limits().tpm());
        assertEquals(2, limited.limits().maxConcurrency());
        ApiKey renamed = admin.keys().update(id, KeyUpdate.create().name("batch-jobs").allowedModels(List.of("demo")));
        assertEquals("batch-jobs", renamed.name());
        assertEquals(List.of("demo"), renamed.allowedModels());

        assertEquals("disabled", admin.keys().disable(id).status());
        assertThrows(AuthenticationException.class, () -> chatWorks(created.secret()));
        assertEquals("active", admin.keys().enable(id).status());
        chatWorks(created.secret());
    }

    @Test
    void resumeEnablesASuspendedKeyButNeverARevokedOne() {
        CreatedKey created = admin.keys().create(KeyCreate.of(tenant, "suspended"));
        String id = created.key().id();
        assertEquals("disabled", admin.keys().disable(id).status());
        assertThrows(AuthenticationException.class, () -> chatWorks(created.secret()));
        assertEquals("active", admin.keys().resume(id).status());
        chatWorks(created.secret());
        admin.keys().revoke(id);
        BadRequestException revoked = assertThrows(BadRequestException.class, () -> admin.keys().resume(id));
        assertEquals("id", revoked.param().orElse(null));
    }

    @Test
    void rotateThenRevoke() {
        CreatedKey old = admin.keys().create(KeyCreate.of(tenant, "rotating").roles("developer", "viewer"));
        CreatedKey rotated = admin.keys().rotate(old.key().id());
        assertEquals(old.key().id(), rotated.replaces().orElseThrow());
        assertNotEquals(old.secret(), rotated.secret());
        assertEquals(old.key().roles(), rotated.key().roles(), "a rotation keeps the settings");
        assertEquals("revoked", admin.keys().get(old.key().id()).status());
        assertThrows(AuthenticationException.class, () -> chatWorks(old.secret()));
        chatWorks(rotated.secret());

        BadRequestException again = assertThrows(BadRequestException.class, () -> admin.keys().rotate(old.key().id()));
        assertTrue(again.getMessage().contains("revoked"), again.getMessage());

        ApiKey revoked = admin.keys().revoke(rotated.key().id());
        assertEquals("revoked", revoked.status());
        assertTrue(revoked.revokedAtInstant().isPresent());
        assertEquals("revoked", admin.keys().revoke(rotated.key().id()).status(), "revoking twice is harmless");
        assertThrows(AuthenticationException.class, () -> chatWorks(rotated.secret()));
    }

    @Test
    void scopeAndErrors() {
        assertThrows(NotFoundException.class, () -> admin.keys().get("key_does_not_exist"));
        BadRequestException role = assertThrows(BadRequestException.class,
                () -> admin.keys().create(KeyCreate.of(tenant, "x").roles("superuser")));
        assertEquals("roles", role.param().orElse(null));
        // A developer key may not use the admin API.
        CreatedKey dev = admin.keys().create(KeyCreate.of(tenant, "dev"));
        PermissionDeniedException denied = assertThrows(PermissionDeniedException.class,
                () -> Gateway.client(url, dev.secret()).keys().list());
        assertEquals(403, denied.status());
        // A tenant admin sees its own tenant's keys only.
        CreatedKey ta = admin.keys().create(KeyCreate.of(tenant, "ta").roles("tenant_admin"));
        List<ApiKey> own = Gateway.client(url, ta.secret()).keys().list();
        assertTrue(own.stream().allMatch(k -> k.tenant().equals(tenant)));
        assertThrows(PermissionDeniedException.class, () -> Gateway.client(url, ta.secret()).keys().list("demo"));
    }
}
