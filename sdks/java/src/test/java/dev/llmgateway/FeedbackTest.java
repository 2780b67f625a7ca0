package dev.llmgateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmgateway.admin.FeedbackQuery;
import dev.llmgateway.admin.FeedbackQuery.GroupBy;
import dev.llmgateway.admin.FeedbackSummary;
import dev.llmgateway.admin.KeyCreate;
import dev.llmgateway.admin.TenantCreate;
import dev.llmgateway.errors.BadRequestException;
import dev.llmgateway.errors.NotFoundException;
import dev.llmgateway.inference.ChatRequest;
import dev.llmgateway.inference.ChatResult;
import dev.llmgateway.model.CreatedKey;
import dev.llmgateway.model.FeedbackRecord;
import dev.llmgateway.support.BaseUrl;
import dev.llmgateway.support.Gateway;
import dev.llmgateway.support.GatewayExtension;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Feedback on calls against the real gateway: give, scope, validation, list and summary. */
@ExtendWith(GatewayExtension.class)
class FeedbackTest {
    @Test
    void feedbackRoundTrip(@BaseUrl String url) throws InterruptedException {
        GatewayClient admin = Gateway.admin(url);
        String tenant = Gateway.uniqueTenant("fb");
        String other = Gateway.uniqueTenant("fb-other");
        admin.tenants().create(TenantCreate.id(tenant));
        admin.tenants().create(TenantCreate.id(other));
        CreatedKey key = admin.keys().create(KeyCreate.of(tenant, "rater"));
        CreatedKey stranger = admin.keys().create(KeyCreate.of(other, "stranger"));
        GatewayClient app = Gateway.client(url, key.secret());
        ChatResult result = app.chat().complete(ChatRequest.model("demo").user("Tell me something nice about otters."));
        String requestId = result.metadata().requestId();
        assertNotNull(requestId);
        // The usage record is written in the background: rate once it is there.
        boolean rated = Gateway.eventually(() -> {
            try {
                app.feedback().thumb(requestId, true, List.of("nice"), null);
                return true;
            } catch (NotFoundException notYet) {
                return false;
            }
        });
        assertTrue(rated, "the call's usage record never showed up");
        FeedbackRecord record = app.feedback().give(requestId, 0.25, List.of("meh"), "so-so");
        assertEquals(0.25, record.score());
        assertEquals("demo", record.model());
        assertNotNull(record.quality());
        BadRequestException bad = assertThrows(BadRequestException.class, () -> app.feedback().give(requestId, 2.0, null, null));
        assertEquals(java.util.Optional.of("score"), bad.param());
        GatewayClient outsider = Gateway.client(url, stranger.secret());
        assertThrows(NotFoundException.class, () -> outsider.feedback().thumb(requestId, false, null, null));
        assertThrows(NotFoundException.class, () -> app.feedback().thumb("no-such-request", false, null, null));

        List<FeedbackRecord> listed = admin.feedback().list(FeedbackQuery.all().tenant(tenant));
        assertEquals(1, listed.size());
        assertEquals("so-so", listed.get(0).comment());
        FeedbackSummary summary = admin.feedback().summary(FeedbackQuery.all().tenant(tenant).groupBy(GroupBy.MODEL, GroupBy.DEPLOYMENT));
        assertEquals(List.of("model", "deployment"), summary.groupBy());
        assertEquals(1, summary.rows().size());
        assertEquals(1, summary.rows().get(0).negative());
    }
}
