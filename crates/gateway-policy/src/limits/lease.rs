//! Concurrency leases kept alive while their calls run. Each admitted call holding a slot in
//! Redis is registered here until it settles; one background task per backend extends every
//! registered lease every third of the lease (batched: one script per [`RENEW_BATCH`] slots).
//! A crashed instance stops renewing, so its slots free within one lease; a call that runs
//! longer than the lease keeps its slot for as long as its instance lives.

use std::sync::Weak;
use std::time::Duration;

use dashmap::DashMap;

/// Slots renewed per script invocation.
const RENEW_BATCH: usize = 512;
/// Shortest renewal period, whatever the lease.
const MIN_PERIOD: Duration = Duration::from_millis(100);

const RENEW: &str = include_str!("renew.lua");

/// The calls of this instance that hold slots: member id -> its concurrency keys.
#[derive(Debug, Default)]
pub(crate) struct Leases {
    held: DashMap<String, Vec<String>, foldhash::fast::RandomState>,
}

impl Leases {
    pub fn hold(&self, member: &str, keys: Vec<String>) {
        if !keys.is_empty() {
            self.held.insert(member.to_owned(), keys);
        }
    }

    pub fn release(&self, member: &str) {
        self.held.remove(member);
    }

    /// `(key, member)` of every held slot.
    fn snapshot(&self) -> Vec<(String, String)> {
        let mut out = Vec::with_capacity(self.held.len());
        for entry in &self.held {
            for key in entry.value() {
                out.push((key.clone(), entry.key().clone()));
            }
        }
        out
    }
}

/// What the renewal task needs of the backend; it ends once the backend and every permit
/// it handed out are gone.
pub(crate) trait LeaseOwner: Send + Sync + 'static {
    fn leases(&self) -> &Leases;
    fn connection(&self) -> redis::aio::ConnectionManager;
    fn timeout(&self) -> Duration;
}

/// How often leases of `lease` are renewed.
pub(crate) fn renew_period(lease: Duration) -> Duration {
    (lease / 3).max(MIN_PERIOD)
}

/// Renew the leases of `owner` every [`renew_period`] for as long as it lives.
pub(crate) async fn renew_while_alive<O: LeaseOwner>(owner: Weak<O>, lease: Duration) {
    let script = redis::Script::new(RENEW);
    let lease_ms = u64::try_from(lease.as_millis()).unwrap_or(u64::MAX);
    let mut tick = tokio::time::interval(renew_period(lease));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let Some(owner) = owner.upgrade() else { return };
        let held = owner.leases().snapshot();
        for batch in held.chunks(RENEW_BATCH) {
            let mut inv = script.prepare_invoke();
            inv.arg(lease_ms);
            for (key, member) in batch {
                inv.key(key);
                inv.arg(member);
            }
            let mut conn = owner.connection();
            let sent = tokio::time::timeout(owner.timeout(), inv.invoke_async::<i64>(&mut conn));
            match sent.await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, slots = batch.len(), "renewing concurrency leases failed")
                }
                Err(_) => {
                    tracing::warn!(slots = batch.len(), "renewing concurrency leases timed out")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leases_are_listed_per_key_until_released() {
        let leases = Leases::default();
        leases.hold("i:1", vec!["k:a".into(), "k:b".into()]);
        leases.hold("i:2", vec![]);
        let mut held = leases.snapshot();
        held.sort();
        assert_eq!(
            held,
            [
                ("k:a".to_owned(), "i:1".to_owned()),
                ("k:b".into(), "i:1".into())
            ]
        );
        leases.release("i:1");
        assert!(leases.snapshot().is_empty());
        assert_eq!(
            renew_period(Duration::from_secs(60)),
            Duration::from_secs(20)
        );
        assert_eq!(renew_period(Duration::from_millis(30)), MIN_PERIOD);
    }
}
