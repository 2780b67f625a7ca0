//! [`IpBlocklist`]: a set of addresses and CIDR blocks as sorted, merged, disjoint ranges; a
//! lookup is one binary search (O(log n)) with no allocation. IPv4 and IPv4-mapped IPv6
//! addresses share the IPv4 table.

use std::net::IpAddr;

use gateway_core::client_networks::{IpNet, canonical, parse_network};

/// Addresses and blocks, as disjoint inclusive ranges sorted by start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpBlocklist {
    v4: Box<[(u32, u32)]>,
    v6: Box<[(u128, u128)]>,
}

impl IpBlocklist {
    /// Builds the set from entries (`198.51.100.0/24`, `203.0.113.7`, `2001:db8::/32`). An
    /// entry that is neither is an error naming it (a feed with one is refused whole).
    pub fn from_entries<S: AsRef<str>>(entries: &[S]) -> Result<Self, String> {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for entry in entries {
            match parse_network(entry.as_ref())? {
                IpNet::V4(net) => v4.push((u32::from(net.network()), u32::from(net.broadcast()))),
                IpNet::V6(net) => {
                    v6.push((u128::from(net.network()), u128::from(net.broadcast())));
                }
            }
        }
        Ok(IpBlocklist {
            v4: merge(v4).into(),
            v6: merge(v6).into(),
        })
    }

    /// Whether `ip` is in the set.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match canonical(ip) {
            IpAddr::V4(v4) => find(&self.v4, u32::from(v4)),
            IpAddr::V6(v6) => find(&self.v6, u128::from(v6)),
        }
    }

    /// Number of disjoint ranges.
    pub fn len(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn merge<T: Ord + Copy + num_like::Succ>(mut ranges: Vec<(T, T)>) -> Vec<(T, T)> {
    ranges.sort_unstable();
    let mut out: Vec<(T, T)> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        if let Some(last) = out.last_mut()
            && (start <= last.1 || last.1.succ() == Some(start))
        {
            last.1 = last.1.max(end);
            continue;
        }
        out.push((start, end));
    }
    out
}

fn find<T: Ord + Copy>(ranges: &[(T, T)], x: T) -> bool {
    // The last range starting at or before `x`.
    let i = ranges.partition_point(|&(start, _)| start <= x);
    i > 0 && ranges[i - 1].1 >= x
}

mod num_like {
    pub trait Succ: Sized {
        fn succ(self) -> Option<Self>;
    }
    impl Succ for u32 {
        fn succ(self) -> Option<Self> {
            self.checked_add(1)
        }
    }
    impl Succ for u128 {
        fn succ(self) -> Option<Self> {
            self.checked_add(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an address")
    }

    #[test]
    fn lookups_follow_the_blocks() {
        let set = IpBlocklist::from_entries(&[
            "198.51.100.0/24",
            "198.51.101.0/24", // adjacent: merged
            "198.51.100.128/25",
            "203.0.113.7",
            "0.0.0.0/32",
            "255.255.255.255",
            "2001:db8::/32",
            "::ffff:192.0.2.0/120",
        ])
        .expect("valid");
        assert_eq!(set.len(), 6);
        for inside in [
            "198.51.100.0",
            "198.51.101.255",
            "203.0.113.7",
            "0.0.0.0",
            "255.255.255.255",
            "2001:db8:1::1",
            "192.0.2.9",
            "::ffff:203.0.113.7",
        ] {
            assert!(set.contains(ip(inside)), "{inside}");
        }
        for outside in [
            "198.51.99.255",
            "198.51.102.0",
            "203.0.113.6",
            "203.0.113.8",
            "0.0.0.1",
            "2001:db9::",
            "::",
        ] {
            assert!(!set.contains(ip(outside)), "{outside}");
        }
        assert!(!IpBlocklist::default().contains(ip("1.2.3.4")));
        assert!(IpBlocklist::from_entries(&["1.2.3.4", "bad"]).is_err());
    }

    #[test]
    fn whole_space_and_overlaps() {
        let set = IpBlocklist::from_entries(&["0.0.0.0/0", "10.0.0.0/8", "::/0"]).expect("valid");
        assert_eq!(set.len(), 2);
        assert!(set.contains(ip("255.255.255.255")));
        assert!(set.contains(ip("ffff::1")));
    }
}
