package dev.llmgateway.errors;

/** 413: the body or a field is over the gateway's limit ({@code request_too_large}). */
public class PayloadTooLargeException extends GatewayException {
    private static final long serialVersionUID = 1L;

    public PayloadTooLargeException(ErrorDetails details) {
        super(details);
    }
}
