/** HTTP transport, JSON and error mapping. Not a public API: it may change in any release. */
package dev.llmgateway.internal;
