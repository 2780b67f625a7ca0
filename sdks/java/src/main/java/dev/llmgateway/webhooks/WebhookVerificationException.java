package dev.llmgateway.webhooks;

/** A delivery not signed by the given secret(s), too old or too new, or malformed. */
public final class WebhookVerificationException extends Exception {
    private static final long serialVersionUID = 1L;

    public WebhookVerificationException(String message) {
        super(message);
    }
}
