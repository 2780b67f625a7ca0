package dev.llmgateway.errors;

/** 404: no such tenant, key, path or model ({@code model_not_found} for a model). */
public class NotFoundException extends GatewayException {
    private static final long serialVersionUID = 1L;

    public NotFoundException(ErrorDetails details) {
        super(details);
    }
}
