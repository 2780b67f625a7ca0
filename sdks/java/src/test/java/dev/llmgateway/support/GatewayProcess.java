package dev.llmgateway.support;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.Base64;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The real {@code llm-gateway} binary ({@code $LLM_GATEWAY_BIN}) started with {@code --demo} on
 * 127.0.0.1 port 0, the bootstrap admin token set and the response cache on; the address is
 * read from its "listening on" line. Webhooks may call receivers on 127.0.0.1 over http (the
 * tests' receivers), looking for due deliveries every 50 ms. Backups are on ({@code [backup]}: a
 * random 32-byte key, archives in a temporary directory). Stopped with SIGTERM (then SIGKILL)
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

            # A file store: the in-memory store of a bare --demo cannot be backed up.
            [store]
            database_url = "sqlite://%s?mode=rwc"

            [backup]
            key = "%s"
            dir = "%s"
            """;

    private final Process process;
    private final String baseUrl;
    private Path config;
    private Path dataDir;
    private Path backupDir;
    private final Deque<String> tail = new ArrayDeque<>();

    private GatewayProcess(Process process, String baseUrl) {
        this.process = process;
        this.baseUrl = baseUrl;
    }

    public static GatewayProcess start() throws IOException, InterruptedException {
        return start("");
    }

    /** A gateway whose configuration has {@code extra} (TOML) appended. */
    public static GatewayProcess start(String extra) throws IOException, InterruptedException {
        String binary = System.getenv("LLM_GATEWAY_BIN");
        if (binary == null || binary.isEmpty()) {
            throw new IllegalStateException("LLM_GATEWAY_BIN is not set (cargo xtask test sets it)");
        }
        Path config = Files.createTempFile("java-sdk-gateway-", ".toml");
        Path dataDir = Files.createTempDirectory("java-sdk-gateway-");
        Path backupDir = Files.createDirectory(dataDir.resolve("archives"));
        byte[] backupKey = new byte[32];
        new SecureRandom().nextBytes(backupKey);
        Files.writeString(config, CONFIG.formatted(dataDir.resolve("gateway.db"), Base64.getEncoder().encodeToString(backupKey), backupDir) + extra);
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
            g.dataDir = dataDir;
            g.backupDir = backupDir;
            synchronized (lines) {
                g.tail.addAll(lines);
            }
            return g;
        } catch (Exception e) {
            p.destroyForcibly();
            Files.deleteIfExists(config);
            deleteTree(dataDir);
            synchronized (lines) {
                throw new IllegalStateException("the gateway did not start: " + e + "\n" + String.join("\n", lines), e);
            }
        }
    }

    public String baseUrl() {
        return baseUrl;
    }

    /** The gateway's {@code [backup] dir}. */
    public Path backupDir() {
        return backupDir;
    }

    /** SIGTERM, then SIGKILL after 10 s. */
    public void close() throws InterruptedException, IOException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor();
        }
        Files.deleteIfExists(config);
        deleteTree(dataDir);
    }

    private static void deleteTree(Path dir) throws IOException {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
