package dev.llmgateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmgateway.admin.KeyCreate;
import dev.llmgateway.admin.TenantCreate;
import dev.llmgateway.admin.UsageQuery;
import dev.llmgateway.admin.UsageQuery.GroupBy;
import dev.llmgateway.admin.UsageReport;
import dev.llmgateway.errors.PermissionDeniedException;
import dev.llmgateway.model.CreatedKey;
import dev.llmgateway.model.UsageRow;
import dev.llmgateway.support.BaseUrl;
import dev.llmgateway.support.Gateway;
import dev.llmgateway.support.GatewayExtension;
import java.time.LocalDate;
import java.time.ZoneOffset;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Usage reports against the real gateway: filters, grouping, CSV, scope. */
@ExtendWith(GatewayExtension.class)
class UsageTest {
    static String url;
    static GatewayClient admin;
    static String tenant;
    static CreatedKey key;

    @BeforeAll
    static void start(@BaseUrl String baseUrl) throws InterruptedException {
        url = baseUrl;
        admin = Gateway.admin(baseUrl);
        tenant = Gateway.uniqueTenant("usage");
        admin.tenants().create(TenantCreate.id(tenant));
        key = admin.keys().create(KeyCreate.of(tenant, "reporter").roles("developer", "viewer"));
        GatewayClient app = Gateway.client(url, key.secret());
        for (int i = 0; i < 3; i++) {
            app.chat().complete(dev.llmgateway.inference.ChatRequest.model("demo").user("usage " + i).temperature(0.7));
        }
        // Usage is written in the background: wait until the three calls are counted.
        boolean counted = Gateway.eventually(() -> total(UsageQuery.all().tenant(tenant)).requests() == 3);
        assertTrue(counted, "the three calls were never counted");
    }

    private static UsageRow total(UsageQuery q) {
        UsageReport r = admin.usage().report(q);
        return r.rows().isEmpty() ? new UsageRow(null, null, null, null, 0, 0, 0, 0, 0, 0, 0, 0, null, 0, null, 0, 0, null) : r.rows().get(0);
    }

    @Test
    void filtersAndGrouping() {
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        UsageReport report = admin.usage().report(UsageQuery.all()
                .tenant(tenant).key(key.key().id()).from(today.minusDays(1)).to(today)
                .groupBy(GroupBy.MODEL, GroupBy.DAY));
        assertEquals(java.util.List.of("model", "day"), report.groupBy());
        assertEquals(1, report.rows().size(), report.toString());
        UsageRow row = report.rows().get(0);
        assertEquals("demo", row.model());
        assertEquals(today.toString(), row.day());
        assertEquals(3, row.requests());
        assertTrue(row.totalTokens() > 0 && row.totalTokens() == row.promptTokens() + row.completionTokens());

        assertEquals(0, total(UsageQuery.all().tenant(tenant).model("no-such-model")).requests());
        assertEquals(0, total(UsageQuery.all().tenant(tenant).from(today.plusDays(1))).requests());
    }

    @Test
    void csvHasAHeaderAndOneLinePerRow() {
        String csv = admin.usage().csv(UsageQuery.all().tenant(tenant).groupBy(GroupBy.TENANT, GroupBy.MODEL));
        String[] lines = csv.split("\r\n");
        assertEquals("tenant,model,requests,errors,cache_hits,prompt_tokens,completion_tokens,total_tokens,"
                + "cost_usd,unpriced_requests,guardrail_findings", lines[0]);
        assertEquals(2, lines.length, csv);
        assertTrue(lines[1].startsWith(tenant + ",demo,3,0,"), lines[1]);
    }

    @Test
    void aViewerSeesItsOwnTenantOnly() {
        GatewayClient viewer = Gateway.client(url, key.secret());
        assertEquals(3, viewer.usage().report(UsageQuery.all()).rows().get(0).requests());
        assertThrows(PermissionDeniedException.class, () -> viewer.usage().report(UsageQuery.all().tenant("demo")));
    }
}
