package dev.llmgateway.errors;

/** 502 (or another upstream status): the provider failed after the gateway's own retries and fallbacks ({@code upstream_error}). */
public class UpstreamException extends ServerException {
    private static final long serialVersionUID = 1L;

    public UpstreamException(ErrorDetails details) {
        super(details);
    }
}
