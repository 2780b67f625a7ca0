package dev.llmgateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgateway.errors.BadRequestException;
import dev.llmgateway.errors.NotFoundException;
import dev.llmgateway.support.BaseUrl;
import dev.llmgateway.support.Gateway;
import dev.llmgateway.support.GatewayExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Prompt templates and the prompt linter against the real gateway: versions, history, a
 * dry-run render, a missing variable named in the 400, built-in templates read-only, deletion,
 * and lint findings with their rule ids.
 */
@ExtendWith(GatewayExtension.class)
class TemplatesTest {
    static GatewayClient admin;
    static final Map<String, String> SYSTEM =
            Map.of("role", "system", "content", "You answer support tickets. Respond in Markdown, at most 80 words.");

    @BeforeAll
    static void start(@BaseUrl String baseUrl) {
        admin = Gateway.admin(baseUrl);
    }

    @Test
    void versionsRenderAndDelete() {
        String id = Gateway.uniqueTenant("reply");
        Map<String, String> user = Map.of("role", "user", "content", "Reply to:\n<<<{{ ticket }}>>>");
        JsonNode first = admin.templates().create(
                Map.of("id", id, "tenant", "demo", "description", "v1", "messages", List.of(SYSTEM, user)));
        assertEquals(1, first.path("version").asInt());
        assertEquals("ticket", first.path("variables").path(0).path("name").asText());
        JsonNode again = admin.templates().create(
                Map.of("id", id, "tenant", "demo", "description", "v1", "messages", List.of(SYSTEM, user)));
        assertEquals(1, again.path("version").asInt(), "the same definition is not a new version");
        assertEquals(2, admin.templates().create(Map.of("id", id, "tenant", "demo", "prompt", "Hi {{ who }}"))
                .path("version").asInt());

        JsonNode shown = admin.templates().get(id, "demo");
        assertEquals(2, shown.path("versions").size());
        assertEquals("user", admin.templates().getVersion(id, 1, "demo").path("messages").path(1).path("role").asText());

        JsonNode out = admin.templates().render(id, Map.of("ticket", "My invoice is wrong"), 1, "demo");
        assertEquals("Reply to:\n<<<My invoice is wrong>>>", out.path("messages").path(1).path("content").asText());
        BadRequestException missing =
                assertThrows(BadRequestException.class, () -> admin.templates().render(id, Map.of(), 1, "demo"));
        assertTrue(missing.getMessage().contains("ticket"), missing.getMessage());

        assertTrue(admin.templates().list("demo").stream().anyMatch(t -> t.path("id").asText().equals(id)));
        assertEquals(2, admin.templates().delete(id, "demo").path("versions").asInt());
        assertThrows(NotFoundException.class, () -> admin.templates().get(id, "demo"));
    }

    @Test
    void builtinsAreListedRenderedAndReadOnly() {
        long builtins = admin.templates().list("demo").stream().filter(t -> t.path("builtin").asBoolean()).count();
        assertEquals(6, builtins);
        JsonNode out = admin.templates().render(
                "builtin.translate", Map.of("text", "Hello", "target_language", "French"), null, "demo");
        assertTrue(out.path("messages").path(1).path("content").asText().contains("French"));
        assertThrows(BadRequestException.class, () -> admin.templates().delete("builtin.translate", "demo"));
    }

    @Test
    void lintNamesItsRules() {
        JsonNode report = admin.prompts().lint(
                Map.of("messages", List.of(Map.of("role", "system", "content", "You help {{ customer }}."))));
        List<String> rules = new ArrayList<>();
        report.path("findings").forEach(f -> rules.add(f.path("rule").asText()));
        assertEquals(List.of("variable-in-system-prompt", "missing-output-format", "unbounded-length"), rules);
        assertEquals(1, report.path("summary").path("errors").asInt());
        JsonNode clean = admin.prompts().lint(Map.of("prompt", "List three colours as JSON, one word each.", "max_tokens", 50));
        assertEquals(0, clean.path("findings").size());
    }
}
