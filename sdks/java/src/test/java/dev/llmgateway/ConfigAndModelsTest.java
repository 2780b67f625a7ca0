package dev.llmgateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmgateway.admin.ConfigCheck;
import dev.llmgateway.admin.ConfigValidator;
import dev.llmgateway.errors.AuthenticationException;
import dev.llmgateway.model.ModelInfo;
import dev.llmgateway.support.BaseUrl;
import dev.llmgateway.support.Gateway;
import dev.llmgateway.support.GatewayExtension;
import dev.llmgateway.support.GatewayProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Configuration validation by the real binary, and the model list of the real gateway. */
@ExtendWith(GatewayExtension.class)
class ConfigAndModelsTest {
    private static Path binary() {
        return Path.of(System.getenv("LLM_GATEWAY_BIN"));
    }

    @Test
    void aValidFileIsValid(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("gateway.toml");
        Files.writeString(file, "[admin]\ntoken = \"0123456789abcdef0123\"\n[cache]\nenabled = true\n");
        ConfigCheck check = ConfigValidator.validate(binary(), file, Duration.ofSeconds(30));
        assertTrue(check.valid(), check.output());
        assertEquals(0, check.exitCode());
        assertTrue(check.problems().isEmpty());
    }

    @Test
    void everyProblemIsNamedWithItsKeyPath(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("gateway.toml");
        Files.writeString(file, "[server]\nlisten = \"nope\"\n[providers.x]\nkind = \"zzz\"\n");
        ConfigCheck check = ConfigValidator.validate(binary(), file, Duration.ofSeconds(30));
        assertFalse(check.valid());
        assertEquals(2, check.exitCode());
        assertEquals(2, check.problems().size(), check.output());
        assertTrue(check.problems().get(0).startsWith("server"), check.problems().toString());
        assertTrue(check.problems().get(1).startsWith("providers.x: unknown kind 'zzz'"), check.problems().toString());
        assertThrows(IllegalArgumentException.class,
                () -> ConfigValidator.validate(binary(), dir.resolve("missing.toml"), Duration.ofSeconds(5)));
    }

    @Test
    void modelsListsThePublicNames(@BaseUrl String url) {
        List<ModelInfo> models = Gateway.client(url, GatewayProcess.DEMO_KEY).models().list();
        assertTrue(models.stream().anyMatch(m -> m.id().equals("demo")), models.toString());
        assertThrows(AuthenticationException.class, () -> Gateway.client(url, "sk-gw-nope").models().list());
    }
}
