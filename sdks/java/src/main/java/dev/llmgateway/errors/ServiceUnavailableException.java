package dev.llmgateway.errors;

/** 503: the gateway is not ready, or a backend it needs is down ({@code service_unavailable}). */
public class ServiceUnavailableException extends ServerException {
    private static final long serialVersionUID = 1L;

    public ServiceUnavailableException(ErrorDetails details) {
        super(details);
    }
}
