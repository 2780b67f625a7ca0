/** The records the gateway's APIs answer with, as immutable Java records. */
package dev.llmgateway.model;
