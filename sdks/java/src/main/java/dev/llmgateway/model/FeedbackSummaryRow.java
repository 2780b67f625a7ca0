package dev.llmgateway.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * One group of a feedback summary: the grouped fields (null when not grouped by) and the
 * aggregates: count, mean score, scores of at least 0.5 ({@code positive}) and below, and the
 * mean heuristic quality of the rated answers.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record FeedbackSummaryRow(
        String tenant,
        String model,
        String provider,
        @JsonProperty("upstream_model") String upstreamModel,
        String task,
        long count,
        @JsonProperty("avg_score") double avgScore,
        long positive,
        long negative,
        @JsonProperty("avg_quality") Double avgQuality) {}
