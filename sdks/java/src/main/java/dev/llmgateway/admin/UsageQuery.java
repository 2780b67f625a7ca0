package dev.llmgateway.admin;

import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;

/**
 * Filters and grouping of a usage report. {@code from} is inclusive, {@code to} exclusive (a
 * {@link LocalDate} as {@code to} includes that whole day); without {@code tenant} an admin sees
 * every tenant and anyone else their own.
 */
public final class UsageQuery {
    /** The dimensions a report can be grouped by. */
    public enum GroupBy {
        TENANT, KEY, MODEL, DAY, TASK;

        String wire() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    String tenant;
    String key;
    String model;
    String from;
    String to;
    final List<GroupBy> groupBy = new ArrayList<>();

    public static UsageQuery all() {
        return new UsageQuery();
    }

    public UsageQuery tenant(String tenant) {
        this.tenant = tenant;
        return this;
    }

    /** Only the calls of this key id. */
    public UsageQuery key(String keyId) {
        this.key = keyId;
        return this;
    }

    public UsageQuery model(String model) {
        this.model = model;
        return this;
    }

    public UsageQuery from(Instant from) {
        this.from = from.toString();
        return this;
    }

    public UsageQuery from(LocalDate from) {
        this.from = from.toString();
        return this;
    }

    public UsageQuery to(Instant to) {
        this.to = to.toString();
        return this;
    }

    public UsageQuery to(LocalDate to) {
        this.to = to.toString();
        return this;
    }

    public UsageQuery groupBy(GroupBy... dims) {
        groupBy.addAll(List.of(dims));
        return this;
    }

    String groupByWire() {
        return String.join(",", groupBy.stream().map(GroupBy::wire).toList());
    }
}
