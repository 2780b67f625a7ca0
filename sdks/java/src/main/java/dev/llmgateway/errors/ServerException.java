package dev.llmgateway.errors;

/** A 5xx answer: the gateway or the provider behind it failed. Subclasses name the common cases. */
public class ServerException extends GatewayException {
    private static final long serialVersionUID = 1L;

    public ServerException(ErrorDetails details) {
        super(details);
    }
}
