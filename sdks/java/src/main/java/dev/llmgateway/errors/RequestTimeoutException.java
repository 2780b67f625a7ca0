package dev.llmgateway.errors;

/** 408: the gateway timed out reading the request ({@code request_timeout}). */
public class RequestTimeoutException extends GatewayException {
    private static final long serialVersionUID = 1L;

    public RequestTimeoutException(ErrorDetails details) {
        super(details);
    }
}
