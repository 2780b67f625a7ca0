package dev.llmgateway.errors;

/** 422: a guardrail or a custom policy blocked the request ({@code content_policy_violation}); the message names the guardrail and rule. */
public class PolicyViolationException extends GatewayException {
    private static final long serialVersionUID = 1L;

    public PolicyViolationException(ErrorDetails details) {
        super(details);
    }
}
