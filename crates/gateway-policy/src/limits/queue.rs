//! Waiting for a concurrency slot: a bounded FIFO per tenant, fair across tenants.
//!
//! A call refused only by a concurrency limit may enter its tenant's queue (at most
//! `max_depth` calls wait per tenant; more get 429 at once). Within a tenant, calls take
//! turns in arrival order (a fair `tokio` mutex); only the call whose turn it is (the
//! tenant's head) competes for slots, so every tenant has at most one contender at a time.
//! A freed slot wakes the head that has waited longest (`Notify::notify_one` is FIFO), and a
//! tenant's next head joins at the back: shared slots (a model's limit) go round-robin across
//! tenants, and a tenant with a hundred waiting calls gets no more of them than a tenant with
//! one. Heads also re-try every `poll_interval` (slots freed by other instances through
//! Redis, or a wake-up spent on a head still blocked by another limit), until `max_wait`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use dashmap::DashMap;
use tokio::sync::{Mutex, MutexGuard, Notify};

#[derive(Debug, Default)]
struct TenantQueue {
    depth: AtomicUsize,
    turn: Mutex<()>,
}

#[derive(Debug, Default)]
pub(crate) struct Queues {
    tenants: DashMap<String, Arc<TenantQueue>>,
    released: Notify,
}

/// A place in a tenant's queue; leaving (drop) frees it.
#[derive(Debug)]
pub(crate) struct Ticket<'a> {
    queues: &'a Queues,
    tenant: &'a str,
    queue: Arc<TenantQueue>,
}

impl Queues {
    /// Join `tenant`'s queue, unless `max_depth` calls wait already (then `Err(depth)`).
    pub fn enter<'a>(&'a self, tenant: &'a str, max_depth: usize) -> Result<Ticket<'a>, usize> {
        let queue = match self.tenants.get(tenant) {
            Some(q) => q.clone(),
            None => self.tenants.entry(tenant.to_owned()).or_default().clone(),
        };
        let admitted = queue
            .depth
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |d| {
                (d < max_depth).then_some(d + 1)
            });
        match admitted {
            Ok(_) => Ok(Ticket {
                queues: self,
                tenant,
                queue,
            }),
            Err(depth) => Err(depth),
        }
    }

    /// A slot was freed on this instance: wake the contender that has waited longest.
    pub fn released(&self) {
        self.released.notify_one();
    }

    pub fn notify(&self) -> &Notify {
        &self.released
    }

    /// Calls waiting in `tenant`'s queue now.
    pub fn depth(&self, tenant: &str) -> usize {
        self.tenants
            .get(tenant)
            .map_or(0, |q| q.depth.load(Ordering::Acquire))
    }
}

impl Ticket<'_> {
    /// Wait for this call's turn within its tenant (FIFO).
    pub async fn turn(&self) -> MutexGuard<'_, ()> {
        self.queue.turn.lock().await
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        if self.queue.depth.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.queues.tenants.remove_if(self.tenant, |_, q| {
                q.depth.load(Ordering::Acquire) == 0 && Arc::strong_count(q) <= 2
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_is_bounded_per_tenant_and_freed_on_drop() {
        let q = Queues::default();
        let a1 = q.enter("a", 2).unwrap();
        let _a2 = q.enter("a", 2).unwrap();
        assert_eq!(q.enter("a", 2).unwrap_err(), 2);
        let _b = q.enter("b", 2).unwrap();
        drop(a1);
        assert_eq!(q.depth("a"), 1);
        assert!(q.enter("a", 2).is_ok());
    }
}
