package dev.llmgateway.errors;

/** 400: the request is malformed or a value is invalid ({@code invalid_request_error}); {@link #param()} names the field. A duplicate id has {@link #code()} {@code already_exists}. */
public class BadRequestException extends GatewayException {
    private static final long serialVersionUID = 1L;

    public BadRequestException(ErrorDetails details) {
        super(details);
    }
}
