package dev.llmgateway.support;

import dev.llmgateway.GatewayClient;
import dev.llmgateway.RetryPolicy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One gateway for the whole test run, started by the first test that needs it and stopped when
 * JUnit closes its root store. Test classes get clients from here.
 */
public final class Gateway {
    private static final Object LOCK = new Object();
    private static GatewayProcess process;
    private static RuntimeException startFailure;

    private Gateway() {}

    /** The shared gateway, started on first use; closed at the end of the run. */
    public static String baseUrl(ExtensionContext context) {
        synchronized (LOCK) {
            if (startFailure != null) {
                throw startFailure;
            }
            if (process == null) {
                try {
                    process = GatewayProcess.start();
                } catch (Exception e) {
                    startFailure = new IllegalStateException("cannot start the gateway: " + e.getMessage(), e);
                    throw startFailure;
                }
                GatewayProcess started = process;
                context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL)
                        .put("llm-gateway", (ExtensionContext.Store.CloseableResource) started::close);
            }
            return process.baseUrl();
        }
    }

    /** The shared gateway's {@code [backup] dir} (after {@link #baseUrl} started it). */
    public static Path backupDir() {
        synchronized (LOCK) {
            if (process == null) {
                throw new IllegalStateException("the gateway is not started");
            }
            return process.backupDir();
        }
    }

    public static GatewayClient admin(String baseUrl) {
        return client(baseUrl, GatewayProcess.ADMIN_TOKEN);
    }

    public static GatewayClient client(String baseUrl, String credential) {
        return GatewayClient.builder()
                .baseUrl(baseUrl)
                .apiKey(credential)
                .timeout(Duration.ofSeconds(30))
                .retryPolicy(RetryPolicy.NONE)
                .build();
    }

    /** A tenant id no other test uses. */
    public static String uniqueTenant(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** Whether {@code condition} held within 10 s, polled every 50 ms (for background writes). */
    public static boolean eventually(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(50);
        }
        return true;
    }
}
