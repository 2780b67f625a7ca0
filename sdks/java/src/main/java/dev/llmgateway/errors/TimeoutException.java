package dev.llmgateway.errors;

/** The SDK's own timeout passed before the gateway answered. Status 0. */
public class TimeoutException extends GatewayException {
    private static final long serialVersionUID = 1L;

    public TimeoutException(ErrorDetails details) {
        super(details);
    }
}
