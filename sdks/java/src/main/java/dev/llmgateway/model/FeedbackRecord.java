package dev.llmgateway.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * One stored feedback on a call, with what the call's usage record says about it: the public
 * model, the deployment that answered, the classifier's task type, the heuristic quality score
 * of the answer and the route reason (each null when unknown).
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record FeedbackRecord(
        String tenant,
        @JsonProperty("request_id") String requestId,
        String subject,
        @JsonProperty("created_at") String createdAt,
        double score,
        List<String> tags,
        String comment,
        String model,
        String provider,
        @JsonProperty("upstream_model") String upstreamModel,
        String task,
        Double quality,
        @JsonProperty("route_reason") String routeReason) {}
