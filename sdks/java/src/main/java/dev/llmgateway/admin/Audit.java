package dev.llmgateway.admin;

import dev.llmgateway.internal.ApiRequest;
import dev.llmgateway.internal.Transport;
import dev.llmgateway.model.AuditPage;
import dev.llmgateway.model.AuditRecord;
import dev.llmgateway.model.AuditVerification;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * {@code /admin/v1/audit}: pages of the audit log, an iterator over all of them, and the
 * verification of the hash chain (admin only).
 */
public final class Audit {
    private final Transport transport;

    public Audit(Transport transport) {
        this.transport = transport;
    }

    /** One page; {@link AuditPage#nextAfter()} is the cursor of the next page when there may be one. */
    public AuditPage list(AuditQuery q) {
        ApiRequest req = ApiRequest.get("/admin/v1/audit")
                .query("tenant", q.tenant)
                .query("actor", q.actor)
                .query("action", q.action)
                .query("from", q.from)
                .query("to", q.to)
                .query("after", q.after)
                .query("limit", q.limit)
                .query("order", q.newestFirst ? "newest" : null);
        return transport.send(req).json(AuditPage.class);
    }

    /**
     * Every record matching {@code q}, oldest first, fetched a page at a time as the iteration
     * goes (so a long log is never held in memory at once).
     */
    public Iterable<AuditRecord> iterate(AuditQuery q) {
        if (q.newestFirst) {
            throw new IllegalArgumentException("the audit log pages oldest first; use list() for one newest-first page");
        }
        return () -> new PageIterator(q.copy());
    }

    /** {@link #iterate} as a sequential stream. */
    public Stream<AuditRecord> stream(AuditQuery q) {
        return StreamSupport.stream(
                Spliterators.spliteratorUnknownSize(iterate(q).iterator(), Spliterator.ORDERED | Spliterator.NONNULL),
                false);
    }

    /** Re-computes the hash chain over every tenant's records. */
    public AuditVerification verify() {
        return transport.send(ApiRequest.get("/admin/v1/audit/verify")).json(AuditVerification.class);
    }

    private final class PageIterator implements Iterator<AuditRecord> {
        private final AuditQuery query;
        private Iterator<AuditRecord> page;
        private boolean more = true;

        PageIterator(AuditQuery query) {
            this.query = query;
        }

        @Override
        public boolean hasNext() {
            while ((page == null || !page.hasNext()) && more) {
                AuditPage next = list(query);
                page = next.data().iterator();
                if (next.nextAfter() == null) {
                    more = false;
                } else {
                    query.after = next.nextAfter();
                }
            }
            return page != null && page.hasNext();
        }

        @Override
        public AuditRecord next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            return page.next();
        }
    }
}
