/**
 * What an application calls: the chat completion helper with the gateway's response metadata,
 * and the guardrails check.
 */
package dev.llmgateway.inference;
