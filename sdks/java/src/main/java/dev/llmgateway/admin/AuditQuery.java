package dev.llmgateway.admin;

import java.time.Instant;
import java.time.LocalDate;

/**
 * Filters of the audit log: tenant, actor (a key id, JWT subject or {@code admin-token}), action
 * (e.g. {@code key.revoke}), time range, page size (1-1000, default 100) and order.
 */
public final class AuditQuery {
    String tenant;
    String actor;
    String action;
    String from;
    String to;
    Long after;
    Integer limit;
    boolean newestFirst;

    public static AuditQuery all() {
        return new AuditQuery();
    }

    public AuditQuery tenant(String tenant) {
        this.tenant = tenant;
        return this;
    }

    public AuditQuery actor(String actor) {
        this.actor = actor;
        return this;
    }

    public AuditQuery action(String action) {
        this.action = action;
        return this;
    }

    public AuditQuery from(Instant from) {
        this.from = from.toString();
        return this;
    }

    public AuditQuery from(LocalDate from) {
        this.from = from.toString();
        return this;
    }

    public AuditQuery to(Instant to) {
        this.to = to.toString();
        return this;
    }

    public AuditQuery to(LocalDate to) {
        this.to = to.toString();
        return this;
    }

    /** Records after this sequence number (the cursor of {@code AuditPage.nextAfter}). */
    public AuditQuery after(long seq) {
        this.after = seq;
        return this;
    }

    /** Records per page, 1 to 1000. */
    public AuditQuery limit(int limit) {
        this.limit = limit;
        return this;
    }

    /** Newest first (one page; the iterator pages oldest first only). */
    public AuditQuery newestFirst() {
        this.newestFirst = true;
        return this;
    }

    AuditQuery copy() {
        AuditQuery q = new AuditQuery();
        q.tenant = tenant;
        q.actor = actor;
        q.action = action;
        q.from = from;
        q.to = to;
        q.after = after;
        q.limit = limit;
        q.newestFirst = newestFirst;
        return q;
    }
}
