package dev.llmgateway.errors;

/** 401: the credential is missing, unknown, expired, disabled or revoked ({@code invalid_api_key}). */
public class AuthenticationException extends GatewayException {
    private static final long serialVersionUID = 1L;

    public AuthenticationException(ErrorDetails details) {
        super(details);
    }
}
