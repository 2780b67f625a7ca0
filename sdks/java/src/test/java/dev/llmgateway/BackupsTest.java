package dev.llmgateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgateway.admin.AuditQuery;
import dev.llmgateway.admin.KeyCreate;
import dev.llmgateway.admin.TenantCreate;
import dev.llmgateway.errors.NotFoundException;
import dev.llmgateway.errors.PermissionDeniedException;
import dev.llmgateway.model.AuditRecord;
import dev.llmgateway.support.BaseUrl;
import dev.llmgateway.support.Gateway;
import dev.llmgateway.support.GatewayExtension;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Backups against the real gateway (its {@code [backup]} is on): a backup taken through the SDK
 * is an archive in the gateway's directory, listed newest first, read back with its manifest,
 * audited; only admins may take one.
 */
@ExtendWith(GatewayExtension.class)
class BackupsTest {
    static String url;
    static GatewayClient admin;

    @BeforeAll
    static void start(@BaseUrl String baseUrl) {
        url = baseUrl;
        admin = Gateway.admin(baseUrl);
    }

    private static long tenantRows(JsonNode backup) {
        for (JsonNode table : backup.path("manifest").path("tables")) {
            if (table.path("name").asText().equals("tenants")) {
                return table.path("rows").asLong();
            }
        }
        return -1;
    }

    @Test
    void createListGetAndAudit() throws IOException {
        String tenant = Gateway.uniqueTenant("backup");
        admin.tenants().create(TenantCreate.id(tenant));
        JsonNode first = admin.backups().create();
        String id = first.path("id").asText();
        assertTrue(first.path("error").isNull(), first.toString());
        assertEquals(id, first.path("manifest").path("id").asText());
        assertEquals("sqlite", first.path("manifest").path("backend").asText());
        assertTrue(tenantRows(first) >= 1, first.toString());
        long size = first.path("size_bytes").asLong();
        assertTrue(size > 0);
        assertEquals(size, Files.size(Gateway.backupDir().resolve(id + ".gwbackup")));
        assertEquals(first, admin.backups().get(id));

        admin.tenants().create(TenantCreate.id(Gateway.uniqueTenant("backup")));
        JsonNode second = admin.backups().create();
        String secondId = second.path("id").asText();
        assertNotEquals(id, secondId);
        assertTrue(tenantRows(second) > tenantRows(first), second.toString());
        List<String> ids = admin.backups().list().stream().map(b -> b.path("id").asText()).toList();
        assertTrue(ids.indexOf(secondId) >= 0 && ids.indexOf(secondId) < ids.indexOf(id), "newest first: " + ids);

        assertThrows(NotFoundException.class, () -> admin.backups().get("gateway-19700101T000000000Z"));
        List<String> audited = StreamSupport.stream(admin.audit().iterate(AuditQuery.all().action("backup.create")).spliterator(), false)
                .filter(r -> r.outcome().equals("success"))
                .map(AuditRecord::target)
                .toList();
        assertTrue(audited.contains(id) && audited.contains(secondId), audited.toString());

        String secret = admin.keys().create(KeyCreate.of(tenant, "not-an-admin")).secret();
        GatewayClient app = Gateway.client(url, secret);
        assertThrows(PermissionDeniedException.class, () -> app.backups().create());
        assertThrows(PermissionDeniedException.class, () -> app.backups().list());
    }
}
