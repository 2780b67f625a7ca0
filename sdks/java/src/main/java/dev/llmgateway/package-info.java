/**
 * The Java SDK of LLM Secure Gateway: {@link dev.llmgateway.GatewayClient} is the entry point.
 * Admin resources are in {@code dev.llmgateway.admin}, the inference helper and guardrails
 * check in {@code dev.llmgateway.inference}, typed errors in {@code dev.llmgateway.errors}.
 */
package dev.llmgateway;
