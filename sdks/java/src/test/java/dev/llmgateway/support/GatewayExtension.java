package dev.llmgateway.support;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/** Resolves a {@code String baseUrl} parameter to the shared gateway's address. */
public final class GatewayExtension implements ParameterResolver {
    @Override
    public boolean supportsParameter(ParameterContext p, ExtensionContext e) {
        return p.getParameter().getType() == String.class && p.getParameter().isAnnotationPresent(BaseUrl.class);
    }

    @Override
    public Object resolveParameter(ParameterContext p, ExtensionContext e) {
        return Gateway.baseUrl(e);
    }
}
