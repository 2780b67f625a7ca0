package dev.llmgateway.errors;

/** 500: the gateway itself failed ({@code internal_error}). */
public class InternalServerException extends ServerException {
    private static final long serialVersionUID = 1L;

    public InternalServerException(ErrorDetails details) {
        super(details);
    }
}
