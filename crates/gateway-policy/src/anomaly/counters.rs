//! The hot path of anomaly detection: a fixed table of per-entity counters that request
//! threads update with relaxed atomic operations only.
//!
//! An entity (a key, a tenant, a client network, the whole gateway) owns one [`Slot`], found
//! by open addressing on a 64-bit hash of its kind and id: a bounded probe of
//! [`PROBES`] slots, claimed with one compare-and-swap the first time the entity is seen. The
//! common case (an entity seen before) allocates nothing and takes no lock. Only the first
//! sight of an entity queues its name for the background folder (a short mutex, once per
//! entity). The table never grows: when every probed slot is taken, the observation is
//! counted in [`Counters::overflow`] and dropped, and the folder frees slots of entities idle
//! for a while.

use std::hash::BuildHasher;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, Ordering::Relaxed};

use serde::{Deserialize, Serialize};

/// How many slots one entity may be placed in (linear probing).
pub const PROBES: usize = 16;
/// HyperLogLog registers for distinct client addresses (p = 6: about 13 % standard error).
const ADDR_REGISTERS: usize = 64;
/// HyperLogLog registers for distinct presented credentials (p = 5: about 18 %).
const CRED_REGISTERS: usize = 32;
/// Client networks remembered per slot and interval (a bounded set: a hash owns one cell).
pub const NET_CELLS: usize = 8;
/// Models remembered per slot and interval.
pub const MODEL_CELLS: usize = 4;

/// What an entity is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    /// An API key (its id).
    Key,
    /// A tenant (its id).
    Tenant,
    /// A client network: an IPv4 /24 or an IPv6 /48, for failed authentications.
    Network,
    /// The whole gateway (id `*`), for failed authentications.
    Gateway,
}

impl EntityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Key => "key",
            EntityKind::Tenant => "tenant",
            EntityKind::Network => "network",
            EntityKind::Gateway => "gateway",
        }
    }
}

/// One entity's counters for the current interval. Every field is reset by the folder.
pub(crate) struct Slot {
    /// 0 when free; the entity's hash (never 0) when taken.
    tag: AtomicU64,
    pub(crate) requests: AtomicU64,
    pub(crate) tokens: AtomicU64,
    /// Cost in millionths of a USD.
    pub(crate) cost_micros: AtomicU64,
    pub(crate) errors: AtomicU64,
    pub(crate) refusals: AtomicU64,
    pub(crate) findings: AtomicU64,
    pub(crate) auth_failures: AtomicU64,
    addr_hll: [AtomicU8; ADDR_REGISTERS],
    cred_hll: [AtomicU8; CRED_REGISTERS],
    nets: [AtomicU32; NET_CELLS],
    models: [AtomicU32; MODEL_CELLS],
}

impl Default for Slot {
    fn default() -> Self {
        Slot {
            tag: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            tokens: AtomicU64::new(0),
            cost_micros: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            refusals: AtomicU64::new(0),
            findings: AtomicU64::new(0),
            auth_failures: AtomicU64::new(0),
            addr_hll: std::array::from_fn(|_| AtomicU8::new(0)),
            cred_hll: std::array::from_fn(|_| AtomicU8::new(0)),
            nets: std::array::from_fn(|_| AtomicU32::new(0)),
            models: std::array::from_fn(|_| AtomicU32::new(0)),
        }
    }
}

/// What one slot held over an interval (read and reset by [`Counters::drain`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sample {
    pub requests: u64,
    pub tokens: u64,
    pub cost_usd: f64,
    pub errors: u64,
    pub refusals: u64,
    pub findings: u64,
    pub auth_failures: u64,
    pub distinct_addresses: f64,
    pub distinct_credentials: f64,
    /// Hashes of the client networks seen (at most [`NET_CELLS`]).
    pub networks: Vec<u32>,
    /// Hashes of the models used (at most [`MODEL_CELLS`]).
    pub models: Vec<u32>,
}

impl Sample {
    pub fn is_empty(&self) -> bool {
        self.requests == 0 && self.auth_failures == 0 && self.errors == 0 && self.refusals == 0
    }
}

/// An entity the table placed: its slot and names, queued for the folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    pub slot: usize,
    pub tag: u64,
    pub kind: EntityKind,
    pub id: String,
    pub tenant: Option<String>,
}

/// One finished call, as the accounting phase reports it.
#[derive(Debug, Clone, Copy)]
pub struct CallObservation<'a> {
    pub tenant: &'a str,
    pub key: &'a str,
    pub model: &'a str,
    pub client: Option<IpAddr>,
    pub tokens: u64,
    pub cost_usd: f64,
    /// The call failed (upstream or gateway error, status >= 500, or a 4xx other than a refusal).
    pub error: bool,
    /// The gateway refused it (policy, limits, guardrail block).
    pub refused: bool,
    /// Guardrail findings on its input and output.
    pub findings: u32,
}

/// The counter table. `Sync`: every request thread shares one.
pub struct Counters {
    slots: Box<[Slot]>,
    hasher: foldhash::fast::FixedState,
    placed: Mutex<Vec<Placed>>,
    overflow: AtomicU64,
}

impl Counters {
    /// A table of `capacity` slots (at least [`PROBES`]).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(PROBES);
        Counters {
            slots: (0..capacity).map(|_| Slot::default()).collect(),
            hasher: foldhash::fast::FixedState::with_seed(0x5eed_a40a_11e5),
            placed: Mutex::new(Vec::new()),
            overflow: AtomicU64::new(0),
        }
    }

    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Observations dropped because the table was full.
    pub fn overflow(&self) -> u64 {
        self.overflow.load(Relaxed)
    }

    /// The hash an entity's slot is found by (never 0).
    pub fn entity_tag(&self, kind: EntityKind, id: &str) -> u64 {
        self.hasher.hash_one((kind as u8, id)).max(1)
    }

    fn small_hash(&self, what: impl std::hash::Hash) -> u32 {
        (self.hasher.hash_one(what) as u32).max(1)
    }

    /// The slot of an entity, claimed on first sight; `None` when the table is full there.
    fn slot(&self, kind: EntityKind, id: &str, tenant: Option<&str>) -> Option<&Slot> {
        let tag = self.entity_tag(kind, id);
        let len = self.slots.len();
        let start = (tag as usize) % len;
        for probe in 0..PROBES {
            let at = (start + probe) % len;
            let slot = &self.slots[at];
            let current = slot.tag.load(Relaxed);
            if current == tag {
                return Some(slot);
            }
            if current == 0 {
                match slot.tag.compare_exchange(0, tag, Relaxed, Relaxed) {
                    Ok(_) => {
                        self.queue(Placed {
                            slot: at,
                            tag,
                            kind,
                            id: id.to_owned(),
                            tenant: tenant.map(str::to_owned),
                        });
                        return Some(slot);
                    }
                    Err(now) if now == tag => return Some(slot),
                    Err(_) => continue,
                }
            }
        }
        self.overflow.fetch_add(1, Relaxed);
        None
    }

    fn queue(&self, placed: Placed) {
        match self.placed.lock() {
            Ok(mut queue) => queue.push(placed),
            Err(poisoned) => poisoned.into_inner().push(placed),
        }
    }

    /// The hot path of a finished call: the key's and the tenant's counters.
    pub fn observe_call(&self, call: &CallObservation<'_>) {
        let network = call.client.map(|ip| self.small_hash(network_of(ip)));
        let address = call.client.map(|ip| self.hasher.hash_one(ip));
        let model = self.small_hash(call.model);
        let cost_micros = (call.cost_usd.max(0.0) * 1e6) as u64;
        for (kind, id, tenant) in [
            (EntityKind::Key, call.key, Some(call.tenant)),
            (EntityKind::Tenant, call.tenant, Some(call.tenant)),
        ] {
            let Some(slot) = self.slot(kind, id, tenant) else {
                continue;
            };
            slot.requests.fetch_add(1, Relaxed);
            if call.tokens > 0 {
                slot.tokens.fetch_add(call.tokens, Relaxed);
            }
            if cost_micros > 0 {
                slot.cost_micros.fetch_add(cost_micros, Relaxed);
            }
            if call.error {
                slot.errors.fetch_add(1, Relaxed);
            }
            if call.refused {
                slot.refusals.fetch_add(1, Relaxed);
            }
            if call.findings > 0 {
                slot.findings.fetch_add(u64::from(call.findings), Relaxed);
            }
            if let Some(hash) = address {
                hll_add(&slot.addr_hll, hash);
            }
            if let Some(net) = network {
                remember(&slot.nets, net);
            }
            remember(&slot.models, model);
        }
    }

    /// The hot path of a failed authentication: counted for the client's network, the
    /// gateway and, when the presented credential names it, the tenant. `credential` is a
    /// hash of what was presented (never the credential itself), for distinct counts.
    pub fn observe_auth_failure(
        &self,
        client: Option<IpAddr>,
        tenant: Option<&str>,
        credential: u64,
    ) {
        let mut targets: [Option<&Slot>; 3] = [None, None, None];
        targets[0] = self.slot(EntityKind::Gateway, "*", None);
        if let Some(ip) = client {
            let net = network_label(ip);
            targets[1] = self.slot(EntityKind::Network, net.as_str(), None);
        }
        if let Some(tenant) = tenant {
            targets[2] = self.slot(EntityKind::Tenant, tenant, Some(tenant));
        }
        for slot in targets.into_iter().flatten() {
            slot.auth_failures.fetch_add(1, Relaxed);
            hll_add(&slot.cred_hll, credential);
        }
    }

    /// Entities placed since the last call (for the folder to name its slots).
    pub fn take_placed(&self) -> Vec<Placed> {
        match self.placed.lock() {
            Ok(mut queue) => std::mem::take(&mut *queue),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        }
    }

    /// Reads and resets one slot, if it still belongs to `tag`.
    pub fn drain(&self, slot: usize, tag: u64) -> Option<Sample> {
        let slot = self.slots.get(slot)?;
        if slot.tag.load(Relaxed) != tag {
            return None;
        }
        Some(Sample {
            requests: slot.requests.swap(0, Relaxed),
            tokens: slot.tokens.swap(0, Relaxed),
            cost_usd: slot.cost_micros.swap(0, Relaxed) as f64 / 1e6,
            errors: slot.errors.swap(0, Relaxed),
            refusals: slot.refusals.swap(0, Relaxed),
            findings: slot.findings.swap(0, Relaxed),
            auth_failures: slot.auth_failures.swap(0, Relaxed),
            distinct_addresses: hll_take(&slot.addr_hll),
            distinct_credentials: hll_take(&slot.cred_hll),
            networks: take_cells(&slot.nets),
            models: take_cells(&slot.models),
        })
    }

    /// Frees a slot (its entity was idle); a later observation claims a slot again.
    pub fn release(&self, slot: usize, tag: u64) {
        if let Some(s) = self.slots.get(slot) {
            let _ = s.tag.compare_exchange(tag, 0, Relaxed, Relaxed);
        }
    }

    /// A hash of a presented credential, for counting distinct guesses (the credential
    /// itself is never kept).
    pub fn credential_hash(&self, credential: &str) -> u64 {
        self.hasher.hash_one(("credential", credential))
    }

    /// The hash the table uses for a model name (novelty is tracked by hash).
    pub fn model_hash(&self, model: &str) -> u32 {
        self.small_hash(model)
    }

    /// The hash the table uses for a client network.
    pub fn network_hash(&self, ip: IpAddr) -> u32 {
        self.small_hash(network_of(ip))
    }
}

/// The network an address belongs to for novelty: IPv4 /24, IPv6 /48 (an IPv4-mapped IPv6
/// address counts as IPv4).
pub fn network_of(ip: IpAddr) -> (u8, u64) {
    match ip {
        IpAddr::V4(v4) => (4, u64::from(u32::from(v4) & 0xffff_ff00)),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => (4, u64::from(u32::from(v4) & 0xffff_ff00)),
            None => (6, (u128::from(v6) >> 80) as u64),
        },
    }
}

/// The network of an address as text: `203.0.113.0/24`, `2001:db8:1::/48`.
pub fn network_label(ip: IpAddr) -> String {
    match network_of(ip) {
        (4, bits) => format!("{}/24", std::net::Ipv4Addr::from(bits as u32)),
        (_, bits) => format!("{}/48", std::net::Ipv6Addr::from(u128::from(bits) << 80)),
    }
}

/// Stores `hash` in the cell it owns: a bounded set where two hashes sharing a cell keep one.
fn remember(cells: &[AtomicU32], hash: u32) {
    let cell = &cells[(hash as usize) % cells.len()];
    if cell.load(Relaxed) != hash {
        cell.store(hash, Relaxed);
    }
}

fn take_cells(cells: &[AtomicU32]) -> Vec<u32> {
    cells
        .iter()
        .filter_map(|c| match c.swap(0, Relaxed) {
            0 => None,
            h => Some(h),
        })
        .collect()
}

fn hll_add(registers: &[AtomicU8], hash: u64) {
    // Callers' hashes may be weak in some bits: mix (the splitmix64 finaliser) first.
    let mut hash = hash;
    hash = (hash ^ (hash >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    hash = (hash ^ (hash >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    hash ^= hash >> 31;
    let bits = registers.len().trailing_zeros();
    let index = (hash as usize) & (registers.len() - 1);
    let rest = hash >> bits;
    let rank = (rest.trailing_zeros().min(64 - bits) + 1) as u8;
    let register = &registers[index];
    if register.load(Relaxed) < rank {
        register.fetch_max(rank, Relaxed);
    }
}

/// The HyperLogLog estimate of the registers (with linear counting for small counts), and
/// resets them.
fn hll_take(registers: &[AtomicU8]) -> f64 {
    let m = registers.len() as f64;
    let mut sum = 0.0;
    let mut zeros = 0usize;
    for r in registers {
        let rank = r.swap(0, Relaxed);
        if rank == 0 {
            zeros += 1;
        }
        sum += 2f64.powi(-i32::from(rank));
    }
    if zeros == registers.len() {
        return 0.0;
    }
    let alpha = match registers.len() {
        16 => 0.673,
        32 => 0.697,
        64 => 0.709,
        _ => 0.7213 / (1.0 + 1.079 / m),
    };
    let raw = alpha * m * m / sum;
    if raw <= 2.5 * m && zeros > 0 {
        m * (m / zeros as f64).ln()
    } else {
        raw
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call<'a>(key: &'a str, ip: &str) -> CallObservation<'a> {
        CallObservation {
            tenant: "acme",
            key,
            model: "gpt",
            client: Some(ip.parse().unwrap()),
            tokens: 100,
            cost_usd: 0.002,
            error: false,
            refused: true,
            findings: 2,
        }
    }

    #[test]
    fn counts_per_key_and_tenant_and_resets_on_drain() {
        let c = Counters::new(64);
        c.observe_call(&call("k1", "10.0.0.1"));
        c.observe_call(&call("k1", "10.0.0.2"));
        c.observe_call(&call("k2", "10.0.1.1"));
        let placed = c.take_placed();
        assert_eq!(placed.len(), 3, "{placed:?}");
        let k1 = placed.iter().find(|p| p.id == "k1").unwrap();
        let s = c.drain(k1.slot, k1.tag).unwrap();
        assert_eq!(
            (s.requests, s.tokens, s.refusals, s.findings),
            (2, 200, 2, 4)
        );
        assert!((s.cost_usd - 0.004).abs() < 1e-9);
        assert!(
            (s.distinct_addresses - 2.0).abs() < 0.5,
            "{}",
            s.distinct_addresses
        );
        assert_eq!(s.networks.len(), 1, "one /24");
        assert_eq!(s.models, vec![c.model_hash("gpt")]);
        let tenant = placed
            .iter()
            .find(|p| p.kind == EntityKind::Tenant)
            .unwrap();
        let t = c.drain(tenant.slot, tenant.tag).unwrap();
        assert_eq!(t.requests, 3);
        assert_eq!(t.networks.len(), 2);
        let again = c.drain(k1.slot, k1.tag).unwrap();
        assert!(again.is_empty());
        assert_eq!(again.distinct_addresses, 0.0);
        assert!(c.take_placed().is_empty(), "placed once");
    }

    #[test]
    fn full_table_drops_and_counts_instead_of_growing() {
        let c = Counters::new(PROBES);
        for i in 0..100 {
            c.observe_call(&CallObservation {
                key: &format!("key-{i}"),
                ..call("x", "10.0.0.1")
            });
        }
        assert_eq!(c.capacity(), PROBES);
        assert_eq!(c.take_placed().len(), PROBES);
        assert!(c.overflow() > 0);
    }

    #[test]
    fn released_slot_is_claimed_again() {
        let c = Counters::new(PROBES);
        c.observe_auth_failure(Some("192.0.2.7".parse().unwrap()), None, 1);
        let placed = c.take_placed();
        assert_eq!(placed.len(), 2);
        let net = placed
            .iter()
            .find(|p| p.kind == EntityKind::Network)
            .unwrap();
        assert_eq!(net.id, "192.0.2.0/24");
        c.release(net.slot, net.tag);
        assert!(c.drain(net.slot, net.tag).is_none());
        c.observe_auth_failure(Some("192.0.2.8".parse().unwrap()), None, 2);
        assert_eq!(c.take_placed().len(), 1);
    }

    #[test]
    fn hyperloglog_estimates_distinct_counts() {
        let c = Counters::new(64);
        for i in 0..1000u32 {
            c.observe_auth_failure(None, None, u64::from(i).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        }
        let placed = c.take_placed();
        let s = c.drain(placed[0].slot, placed[0].tag).unwrap();
        assert_eq!(s.auth_failures, 1000);
        assert!(
            (600.0..1500.0).contains(&s.distinct_credentials),
            "{}",
            s.distinct_credentials
        );
    }

    #[test]
    fn networks_are_slash_24_and_slash_48() {
        assert_eq!(
            network_label("203.0.113.77".parse().unwrap()),
            "203.0.113.0/24"
        );
        assert_eq!(
            network_label("2001:db8:1:2::5".parse().unwrap()),
            "2001:db8:1::/48"
        );
        assert_eq!(
            network_label("::ffff:203.0.113.9".parse().unwrap()),
            "203.0.113.0/24"
        );
    }
}
