package dev.llmgateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmgateway.admin.AuditQuery;
import dev.llmgateway.admin.KeyCreate;
import dev.llmgateway.admin.TenantCreate;
import dev.llmgateway.errors.BadRequestException;
import dev.llmgateway.model.AuditPage;
import dev.llmgateway.model.AuditRecord;
import dev.llmgateway.model.AuditVerification;
import dev.llmgateway.model.CreatedKey;
import dev.llmgateway.support.BaseUrl;
import dev.llmgateway.support.Gateway;
import dev.llmgateway.support.GatewayExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The audit log against the real gateway: filters, pages, the iterator, verification. */
@ExtendWith(GatewayExtension.class)
class AuditTest {
    static GatewayClient admin;
    static String tenant;
    static List<String> keyIds = new ArrayList<>();
    static List<String> secrets = new ArrayList<>();

    @BeforeAll
    static void start(@BaseUrl String baseUrl) {
        admin = Gateway.admin(baseUrl);
        tenant = Gateway.uniqueTenant("audit");
        admin.tenants().create(TenantCreate.id(tenant));
        for (int i = 0; i < 5; i++) {
            CreatedKey k = admin.keys().create(KeyCreate.of(tenant, "k" + i));
            keyIds.add(k.key().id());
            secrets.add(k.secret());
        }
        admin.keys().revoke(keyIds.get(0));
    }

    @Test
    void filtersByTenantAndAction() {
        AuditPage page = admin.audit().list(AuditQuery.all().tenant(tenant).action("key.create"));
        assertEquals(5, page.data().size());
        for (AuditRecord r : page.data()) {
            assertEquals("key.create", r.action());
            assertEquals(tenant, r.tenant());
            assertEquals("admin-token", r.actor());
            assertEquals("success", r.outcome());
            for (String secret : secrets) {
                assertFalse(r.details().toString().contains(secret), "audit details never hold a secret");
            }
        }
        assertEquals(keyIds, page.data().stream().map(AuditRecord::target).collect(Collectors.toList()));
        AuditPage newest = admin.audit().list(AuditQuery.all().tenant(tenant).newestFirst().limit(1));
        assertEquals("key.revoke", newest.data().get(0).action());
    }

    @Test
    void pagesFollowTheCursor() {
        AuditPage first = admin.audit().list(AuditQuery.all().tenant(tenant).limit(2));
        assertEquals(2, first.data().size());
        assertTrue(first.next().isPresent(), "a full page has a cursor");
        AuditPage second = admin.audit().list(AuditQuery.all().tenant(tenant).limit(2).after(first.nextAfter()));
        assertTrue(second.data().get(0).seq() > first.data().get(1).seq());

        // tenant.create + 5 key.create + key.revoke, fetched two at a time.
        List<AuditRecord> all = new ArrayList<>();
        admin.audit().iterate(AuditQuery.all().tenant(tenant).limit(2)).forEach(all::add);
        assertEquals(7, all.size());
        assertEquals("tenant.create", all.get(0).action());
        for (int i = 1; i < all.size(); i++) {
            assertTrue(all.get(i).seq() > all.get(i - 1).seq(), "oldest first, no duplicates");
        }
        assertEquals(7, admin.audit().stream(AuditQuery.all().tenant(tenant).limit(3)).count());
    }

    @Test
    void verifyAndBadFilters() {
        AuditVerification v = admin.audit().verify();
        assertTrue(v.intact());
        assertTrue(v.checked() >= 7);
        BadRequestException e = assertThrows(BadRequestException.class,
                () -> admin.audit().list(AuditQuery.all().limit(5000)));
        assertEquals("limit", e.param().orElse(null));
    }
}
