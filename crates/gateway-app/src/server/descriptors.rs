//! How many client connections the process can hold: the descriptor limit (`RLIMIT_NOFILE`)
//! less a reserve for everything that is not a client connection.
//!
//! A client connection making a model call also holds an upstream connection, so the default
//! is half of what the reserve leaves: at the limit, calls still find descriptors for their
//! upstreams, and `/health` and the admin API (whose store connections are already open) keep
//! answering.

/// Used on platforms without a descriptor limit to read.
#[cfg(not(unix))]
const FALLBACK_LIMIT: u64 = 4096;
/// The soft limit is raised towards the hard one, but not beyond this.
const RAISE_CAP: u64 = 1 << 20;

/// The process's descriptor limit, after raising the soft limit to the hard one (as Go's
/// runtime does): a default soft limit of 1024 would cap a gateway at a few hundred callers.
pub(super) fn descriptor_limit() -> u64 {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
        let limit = getrlimit(Resource::Nofile);
        let Some(soft) = limit.current else {
            return RAISE_CAP; // unlimited
        };
        let target = limit.maximum.unwrap_or(RAISE_CAP).min(RAISE_CAP);
        if target > soft {
            let raised = Rlimit {
                current: Some(target),
                maximum: limit.maximum,
            };
            if setrlimit(Resource::Nofile, raised).is_ok() {
                tracing::debug!(from = soft, to = target, "raised the descriptor limit");
                return target;
            }
        }
        soft
    }
    #[cfg(not(unix))]
    {
        FALLBACK_LIMIT
    }
}

/// The connection cap in force: `configured` (0: derived) clamped so that `reserved`
/// descriptors stay free of client connections, and at least 1.
pub(super) fn max_connections(configured: usize, reserved: usize, limit: u64) -> usize {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let available = limit.saturating_sub(reserved).max(1);
    match configured {
        0 => (available / 2).max(1),
        n => n.min(available),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_leaves_the_reserve_and_an_upstream_descriptor_per_connection() {
        assert_eq!(max_connections(0, 128, 20_000), 9_936);
        assert_eq!(max_connections(0, 128, 256), 64);
    }

    #[test]
    fn a_configured_cap_is_clamped_below_the_limit_less_the_reserve() {
        assert_eq!(max_connections(500, 128, 20_000), 500);
        assert_eq!(max_connections(50_000, 128, 1_024), 896);
        assert_eq!(max_connections(0, 128, 64), 1);
    }
}
