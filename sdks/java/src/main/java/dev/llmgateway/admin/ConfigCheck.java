package dev.llmgateway.admin;

import java.util.List;

/**
 * The verdict of {@code llm-gateway --check-config}: whether the file is valid, each problem
 * with its dotted key path (e.g. {@code providers.x: unknown kind 'zzz'}), and the whole output.
 */
public record ConfigCheck(boolean valid, int exitCode, List<String> problems, String output) {}
