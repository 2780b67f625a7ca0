package dev.llmgateway.admin;

import dev.llmgateway.model.FeedbackSummaryRow;
import java.util.List;

/** A feedback summary: the dimensions grouped by, and one row per group. */
public record FeedbackSummary(List<String> groupBy, List<FeedbackSummaryRow> rows) {}
