/**
 * The admin API ({@code /admin/v1/}): tenants, keys, usage reports, the audit log, deployment
 * states and the response cache. Reach it through {@link dev.llmgateway.GatewayClient}.
 */
package dev.llmgateway.admin;
