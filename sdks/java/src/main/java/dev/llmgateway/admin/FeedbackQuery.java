package dev.llmgateway.admin;

import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Filters of the feedback list and summary: tenant, public model, provider, task type and a
 * time window ({@code from} inclusive, {@code to} exclusive); the list's {@code limit} and the
 * summary's grouping.
 */
public final class FeedbackQuery {
    /** The dimensions a summary can be grouped by. */
    public enum GroupBy {
        TENANT, MODEL, DEPLOYMENT, TASK;

        String wire() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    String tenant;
    String model;
    String provider;
    String task;
    String from;
    String to;
    Integer limit;
    final List<GroupBy> groupBy = new ArrayList<>();

    public static FeedbackQuery all() {
        return new FeedbackQuery();
    }

    public FeedbackQuery tenant(String tenant) {
        this.tenant = tenant;
        return this;
    }

    public FeedbackQuery model(String model) {
        this.model = model;
        return this;
    }

    public FeedbackQuery provider(String provider) {
        this.provider = provider;
        return this;
    }

    /** A task type: {@code code}, {@code math}, {@code reasoning}, ... */
    public FeedbackQuery task(String task) {
        this.task = task;
        return this;
    }

    public FeedbackQuery from(Instant from) {
        this.from = from.toString();
        return this;
    }

    public FeedbackQuery from(LocalDate from) {
        this.from = from.toString();
        return this;
    }

    public FeedbackQuery to(Instant to) {
        this.to = to.toString();
        return this;
    }

    public FeedbackQuery to(LocalDate to) {
        this.to = to.toString();
        return this;
    }

    /** The list only: at most this many (1-1000). */
    public FeedbackQuery limit(int limit) {
        this.limit = limit;
        return this;
    }

    /** The summary only (default model, task). */
    public FeedbackQuery groupBy(GroupBy... dims) {
        groupBy.addAll(List.of(dims));
        return this;
    }

    String groupByWire() {
        return String.join(",", groupBy.stream().map(GroupBy::wire).toList());
    }
}
