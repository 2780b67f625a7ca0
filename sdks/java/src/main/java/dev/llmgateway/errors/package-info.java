/**
 * Typed exceptions mirroring the gateway's error statuses and codes. Catch {@link
 * dev.llmgateway.errors.GatewayException} for all of them, or one subclass for one case; every
 * exception is unchecked.
 */
package dev.llmgateway.errors;
