package dev.llmgateway.errors;

/** 504: the provider did not answer in time ({@code upstream_timeout}). */
public class UpstreamTimeoutException extends ServerException {
    private static final long serialVersionUID = 1L;

    public UpstreamTimeoutException(ErrorDetails details) {
        super(details);
    }
}
