package dev.llmgateway.support;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The real {@code llm-gateway} binary ({@code $LLM_GATEWAY_BIN}) started with {@code --demo} on
 * 127.0.0.1 port 0, the bootstrap admin token set and the response cache on; the address is
 * read from its "listening on" line. Webhooks may call receivers on 127.0.0.1 over http (the
 * tests' receivers), looking for due deliveries every 50 ms. Stopped with SIGTERM (then SIGKILL)
 * when closed.
 */
public final class GatewayProcess {
    public static final String ADMIN_TOKEN = "java-sdk-admin-token-0123456789";
    public static final String DEMO_KEY = "sk-gw-JavaSdkDemoKey0123456789abcdefghijklmnopqrs";
    private static final Pattern LISTENING = Pattern.compile("listening on (http://[0-9.:]+)");
    private static final int TAIL = 60;
    private static final String CONFIG = """
            [webhooks]
            allow_private = ["127.0.0.1/32"]
            allow_http = true
            poll_interval = "50ms"
            """;

    private final Process process;
    private final String baseUrl;
    private Path config;
    private final Deque<String> tail = new ArrayDeque<>();

    private GatewayProcess(Process process, String baseUrl) {
        this.process = process;
        this.baseUrl = baseUrl;
    }

    public static GatewayProcess start() throws IOException, InterruptedException {
        String binary = System.getenv("LLM_GATEWAY_BIN");
        if (binary == null || binary.isEmpty()) {
            throw new IllegalStateException("LLM_GATEWAY_BIN is not set (cargo xtask test sets it)");
        }
        Path config = Files.createTempFile("java-sdk-gateway-", ".toml");
        Files.writeString(config, CONFIG);
        ProcessBuilder pb = new ProcessBuilder(
                List.of(binary, "--demo", "--listen", "127.0.0.1:0", "--config", config.toString()));
        Map<String, String> env = pb.environment();
        env.put("GATEWAY_DEMO_KEY", DEMO_KEY);
        env.put("GATEWAY__ADMIN__TOKEN", ADMIN_TOKEN);
        env.put("GATEWAY__CACHE__ENABLED", "true");
        pb.redirectErrorStream(true);
        pb.redirectInput(ProcessBuilder.Redirect.PIPE);
        Process p = pb.start();
        p.getOutputStream().close();
        CompletableFuture<String> address = new CompletableFuture<>();
        Deque<String> lines = new ArrayDeque<>();
        Thread pump = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    synchronized (lines) {
                        lines.addLast(line);
                        if (lines.size() > TAIL) {
                            lines.removeFirst();
                        }
                    }
                    Matcher m = LISTENING.matcher(line);
                    if (!address.isDone() && m.find()) {
                        address.complete(m.group(1));
                    }
                }
            } catch (IOException ignored) {
                // the process ended
            }
            address.completeExceptionally(new IllegalStateException("the gateway exited before listening"));
        }, "gateway-output");
        pump.setDaemon(true);
        pump.start();
        try {
            GatewayProcess g = new GatewayProcess(p, address.get(60, TimeUnit.SECONDS));
            g.config = config;
            synchronized (lines) {
                g.tail.addAll(lines);
            }
            return g;
        } catch (Exception e) {
            p.destroyForcibly();
            Files.deleteIfExists(config);
            synchronized (lines) {
                throw new IllegalStateException("the gateway did not start: " + e + "\n" + String.join("\n", lines), e);
            }
        }
    }

    public String baseUrl() {
        return baseUrl;
    }

    /** SIGTERM, then SIGKILL after 10 s. */
    public void close() throws InterruptedException, IOException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor();
        }
        Files.deleteIfExists(config);
    }
}
