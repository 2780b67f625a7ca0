package dev.llmgateway.errors;

import java.time.Duration;

/**
 * {@code asyncCalls().waitFor} gave up: the job was still {@link #jobStatus()} after the
 * timeout. The job goes on: wait again, or cancel it. Status 0 (not an answer of the gateway).
 */
public class AsyncCallTimeoutException extends GatewayException {
    private static final long serialVersionUID = 1L;

    private final String jobId;
    private final String jobStatus;

    public AsyncCallTimeoutException(String jobId, String jobStatus, Duration timeout) {
        super(ErrorDetails.noAnswer("async call " + jobId + " was still " + jobStatus + " after "
                + timeout.toMillis() + " ms", null));
        this.jobId = jobId;
        this.jobStatus = jobStatus;
    }

    public String jobId() {
        return jobId;
    }

    public String jobStatus() {
        return jobStatus;
    }
}
