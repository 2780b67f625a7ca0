package dev.llmgateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgateway.admin.KeyCreate;
import dev.llmgateway.admin.TenantCreate;
import dev.llmgateway.errors.BadRequestException;
import dev.llmgateway.errors.PermissionDeniedException;
import dev.llmgateway.support.BaseUrl;
import dev.llmgateway.support.Gateway;
import dev.llmgateway.support.GatewayExtension;
import dev.llmgateway.support.GatewayProcess;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Key management against the real gateway (a second gateway with {@code [encryption]} on):
 * status, rotation to a new version, re-encryption and re-wrap counts, opening values (one that
 * is not sealed is {@code invalid}); a tenant admin manages its own tenant only; the shared
 * gateway, without {@code [encryption]}, says so.
 */
@ExtendWith(GatewayExtension.class)
class EncryptionTest {
    static GatewayProcess process;
    static GatewayClient admin;
    static GatewayClient plain;

    @BeforeAll
    static void start(@BaseUrl String baseUrl) throws Exception {
        byte[] kek = new byte[32];
        new SecureRandom().nextBytes(kek);
        process = GatewayProcess.start("\n[encryption]\nkek = \"" + Base64.getEncoder().encodeToString(kek) + "\"\nkek_id = \"sdk-kek\"\n");
        admin = Gateway.admin(process.baseUrl());
        plain = Gateway.admin(baseUrl);
    }

    @AfterAll
    static void stop() throws Exception {
        process.close();
    }

    @Test
    void statusRotateReencryptRewrapOpen() {
        String tenant = Gateway.uniqueTenant("enc");
        admin.tenants().create(TenantCreate.id(tenant));
        JsonNode status = admin.encryption().status(tenant);
        assertEquals("tenant.keys", status.path("object").asText());
        assertTrue(status.path("current").isNull(), status.toString());
        assertEquals("sdk-kek", status.path("kek_id").asText());
        assertEquals(1, admin.encryption().rotate(tenant).path("current").asInt());
        JsonNode second = admin.encryption().rotate(tenant);
        assertEquals(2, second.path("versions").size());
        assertEquals("sdk-kek", second.path("versions").get(1).path("kek_id").asText());
        JsonNode re = admin.encryption().reencrypt(tenant);
        assertEquals(0, re.path("reencrypted").path("resealed").asInt(), re.toString());
        JsonNode wrap = admin.encryption().rewrap();
        assertEquals("sdk-kek", wrap.path("kek_id").asText());
        assertEquals(0, wrap.path("rewrapped").asInt());
        assertTrue(wrap.path("already_current").asInt() >= 2, wrap.toString());
        List<String> statuses = admin.encryption().open(tenant, List.of("not sealed", "gwe1:AAAA")).stream()
                .map(o -> o.path("status").asText())
                .toList();
        assertEquals(List.of("invalid", "invalid"), statuses);
        assertThrows(BadRequestException.class, () -> admin.encryption().open(tenant, List.of()));

        String other = Gateway.uniqueTenant("enc");
        admin.tenants().create(TenantCreate.id(other));
        String boss = admin.keys().create(KeyCreate.of(tenant, "tenant-admin").roles("tenant_admin")).secret();
        GatewayClient own = Gateway.client(process.baseUrl(), boss);
        assertEquals(3, own.encryption().rotate(tenant).path("current").asInt());
        assertThrows(PermissionDeniedException.class, () -> own.encryption().rotate(other));
        assertThrows(PermissionDeniedException.class, () -> own.encryption().rewrap());
        assertThrows(PermissionDeniedException.class, () -> own.encryption().open(tenant, List.of("gwe1:AAAA")));
        String developer = admin.keys().create(KeyCreate.of(tenant, "developer")).secret();
        assertThrows(PermissionDeniedException.class, () -> Gateway.client(process.baseUrl(), developer).encryption().status(tenant));
    }

    @Test
    void aGatewayWithoutEncryptionSaysSo() {
        BadRequestException err = assertThrows(BadRequestException.class, () -> plain.encryption().status("acme"));
        assertTrue(err.getMessage().contains("not configured"), err.getMessage());
    }
}
