/**
 * For receivers of the gateway's webhooks: {@link dev.llmgateway.webhooks.WebhookVerifier}
 * checks Standard Webhooks signatures. The endpoints themselves are managed with {@link
 * dev.llmgateway.admin.Webhooks}.
 */
package dev.llmgateway.webhooks;
