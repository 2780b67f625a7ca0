package dev.llmgateway.errors;

/** 403: the credential is valid but lacks the permission, or the tenant, model or region is not allowed. */
public class PermissionDeniedException extends GatewayException {
    private static final long serialVersionUID = 1L;

    public PermissionDeniedException(ErrorDetails details) {
        super(details);
    }
}
