package dev.llmgateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmgateway.inference.ChatRequest;
import dev.llmgateway.inference.ChatResult;
import dev.llmgateway.model.CacheInvalidation;
import dev.llmgateway.model.DeploymentState;
import dev.llmgateway.support.BaseUrl;
import dev.llmgateway.support.Gateway;
import dev.llmgateway.support.GatewayExtension;
import dev.llmgateway.support.GatewayProcess;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Deployment states, cache invalidation and the health probes against the real gateway. */
@ExtendWith(GatewayExtension.class)
class OpsTest {
    static GatewayClient admin;
    static GatewayClient app;

    @BeforeAll
    static void start(@BaseUrl String baseUrl) {
        admin = Gateway.admin(baseUrl);
        app = Gateway.client(baseUrl, GatewayProcess.DEMO_KEY);
    }

    @Test
    void deploymentsShowTheDemoProvider() {
        app.chat().complete("demo", "warm up");
        List<DeploymentState> states = admin.deployments().list();
        DeploymentState demo = states.stream().filter(s -> s.model().equals("demo")).findFirst().orElseThrow();
        assertEquals("demo", demo.provider());
        assertEquals("closed", demo.circuit());
        assertTrue(demo.requests() >= 1);
    }

    @Test
    void healthAndReadinessNeedNoAdminRights() {
        assertEquals("ok", app.health().path("status").asText());
        assertEquals("ready", app.ready().path("status").asText());
    }

    @Test
    void invalidatingTheCacheMakesTheNextCallAMiss() throws InterruptedException {
        ChatRequest question = ChatRequest.model("demo").user("What is the capital of France? (java sdk)").temperature(0);
        ChatResult first = app.chat().complete(question);
        assertEquals("miss", first.metadata().cache().orElse(null));
        // The cache fill is written in the background.
        assertTrue(Gateway.eventually(() -> app.chat().complete(question).metadata().cacheHit()), "never a cache hit");
        CacheInvalidation result = admin.cache().invalidateModel("demo");
        assertTrue(result.removed() >= 1, "removed " + result.removed());
        assertEquals("model", result.scope().path("scope").asText());
        assertFalse(app.chat().complete(question).metadata().cacheHit());
        assertTrue(admin.cache().invalidateAll().removed() >= 0);
    }
}
