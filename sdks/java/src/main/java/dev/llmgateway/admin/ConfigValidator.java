package dev.llmgateway.admin;

import dev.llmgateway.errors.ErrorDetails;
import dev.llmgateway.errors.GatewayException;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Validates a gateway configuration file the way the server reads it, by running {@code
 * llm-gateway --check-config -c FILE} (as {@code gatewayctl config validate} does), so the SDK
 * and the server never disagree. The file's {@code ${VAR}} references are resolved from this
 * process's environment. Needs the {@code llm-gateway} binary: {@code LLM_GATEWAY_BIN}, else on
 * {@code PATH}; no running gateway.
 */
public final class ConfigValidator {
    private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

    private ConfigValidator() {}

    /** Validates {@code file} with the {@code llm-gateway} of {@code LLM_GATEWAY_BIN} or {@code PATH}. */
    public static ConfigCheck validate(Path file) {
        Path binary = findGateway().orElseThrow(() -> new GatewayException(ErrorDetails.noAnswer(
                "Cannot find the llm-gateway binary: set LLM_GATEWAY_BIN or put it on PATH "
                        + "(it performs the check: llm-gateway --check-config -c FILE).", null)));
        return validate(binary, file, DEFAULT_TIMEOUT);
    }

    /** Validates {@code file} with {@code binary}, waiting at most {@code timeout}. */
    public static ConfigCheck validate(Path binary, Path file, Duration timeout) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("no such configuration file: " + file);
        }
        ProcessBuilder pb = new ProcessBuilder(binary.toString(), "--check-config", "-c", file.toString())
                .redirectErrorStream(true);
        try {
            Process p = pb.start();
            p.getOutputStream().close();
            CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> {
                try {
                    return p.getInputStream().readAllBytes();
                } catch (IOException e) {
                    return new byte[0];
                }
            });
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new GatewayException(ErrorDetails.noAnswer(
                        "llm-gateway --check-config did not finish within " + timeout.toSeconds() + " s.", null));
            }
            String output = new String(out.join(), StandardCharsets.UTF_8);
            int code = p.exitValue();
            return new ConfigCheck(code == 0, code, problems(output), output);
        } catch (IOException e) {
            throw new GatewayException(ErrorDetails.noAnswer("Cannot run " + binary + ": " + e.getMessage(), e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GatewayException(ErrorDetails.noAnswer("Interrupted while validating " + file, e));
        }
    }

    /** The {@code - key: message} items after "invalid configuration:", continuation lines joined. */
    static List<String> problems(String output) {
        List<String> problems = new ArrayList<>();
        boolean inList = false;
        for (String line : output.split("\n", -1)) {
            if (line.startsWith("invalid configuration")) {
                inList = true;
            } else if (inList && line.startsWith("  - ")) {
                problems.add(line.substring(4).strip());
            } else if (inList && !problems.isEmpty() && !line.isBlank()) {
                int last = problems.size() - 1;
                problems.set(last, problems.get(last) + "\n" + line.stripTrailing());
            }
        }
        return List.copyOf(problems);
    }

    private static Optional<Path> findGateway() {
        String explicit = System.getenv("LLM_GATEWAY_BIN");
        if (explicit != null && !explicit.isEmpty()) {
            return Optional.of(Path.of(explicit));
        }
        String path = System.getenv("PATH");
        if (path == null) {
            return Optional.empty();
        }
        for (String dir : path.split(File.pathSeparator)) {
            Path candidate = Path.of(dir, "llm-gateway");
            if (Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }
}
