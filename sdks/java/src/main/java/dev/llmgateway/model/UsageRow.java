package dev.llmgateway.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * One row of a usage report: the grouped fields ({@code tenant}, {@code key}, {@code model},
 * {@code day}, {@code task}; null when not grouped by) and the totals, with the mean heuristic
 * quality score of the scored answers ({@code avgQuality}, null when none was scored) and the
 * guardrail findings (flags, redactions, blocks) over the calls' inputs and outputs, and the
 * mean LLM judge score of the judged calls ({@code avgJudgeScore}, null when none was judged).
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record UsageRow(
        String tenant,
        String key,
        String model,
        String day,
        long requests,
        long errors,
        @JsonProperty("cache_hits") long cacheHits,
        @JsonProperty("prompt_tokens") long promptTokens,
        @JsonProperty("completion_tokens") long completionTokens,
        @JsonProperty("total_tokens") long totalTokens,
        @JsonProperty("cost_usd") double costUsd,
        @JsonProperty("unpriced_requests") long unpricedRequests,
        String task,
        @JsonProperty("scored_requests") long scoredRequests,
        @JsonProperty("avg_quality") Double avgQuality,
        @JsonProperty("guardrail_findings") long guardrailFindings,
        @JsonProperty("judged_requests") long judgedRequests,
        @JsonProperty("avg_judge_score") Double avgJudgeScore) {}
