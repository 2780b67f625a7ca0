package dev.llmgateway.errors;

/** The gateway could not be reached: connection refused or reset, DNS, TLS. Status 0. */
public class ConnectionException extends GatewayException {
    private static final long serialVersionUID = 1L;

    public ConnectionException(ErrorDetails details) {
        super(details);
    }
}
