//! Client address allow-lists: the CIDR blocks a key or a tenant may call from, and the
//! check of a request's client address against them.
//!
//! A list is stored as text (`"10.0.0.0/8"`, `"2001:db8::/32"`, or a bare address meaning one
//! host) and parsed once when the principal is built, so the per-request check is a scan of a
//! few prefixes with no allocation. IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`, what a
//! dual-stack listener reports for an IPv4 peer) are compared as the IPv4 address they carry.

use std::net::IpAddr;
use std::sync::Arc;

pub use ipnet::IpNet;

/// Most networks one key or one tenant may list (an operator with more wants a proxy rule).
pub const MAX_ALLOWED_NETWORKS: usize = 256;

/// Parses one entry: a CIDR block or a bare address (a /32 or /128). Host bits are cleared
/// (`10.1.2.3/8` is `10.0.0.0/8`).
pub fn parse_network(entry: &str) -> Result<IpNet, String> {
    let entry = entry.trim();
    if let Ok(net) = entry.parse::<IpNet>() {
        return Ok(canonical_net(net));
    }
    match entry.parse::<IpAddr>() {
        Ok(ip) => Ok(IpNet::from(canonical(ip))),
        Err(_) => Err(format!(
            "'{entry}' is not a CIDR block (e.g. 10.0.0.0/8, 2001:db8::/32) or an IP address"
        )),
    }
}

/// Parses and checks a whole list (at most [`MAX_ALLOWED_NETWORKS`] entries); the error names
/// the first bad entry. Returns the canonical text of each entry, as it is stored.
pub fn normalize_networks(list: &[String]) -> Result<Vec<String>, String> {
    if list.len() > MAX_ALLOWED_NETWORKS {
        return Err(format!(
            "at most {MAX_ALLOWED_NETWORKS} networks may be listed, not {}",
            list.len()
        ));
    }
    list.iter()
        .map(|entry| parse_network(entry).map(|net| net.to_string()))
        .collect()
}

/// The address as compared: an IPv4-mapped IPv6 address becomes its IPv4 address.
pub fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

fn canonical_net(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
            Some(v4) => ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96)
                .map(|n| IpNet::V4(n.trunc()))
                .unwrap_or(net.trunc()),
            None => net.trunc(),
        },
        _ => net.trunc(),
    }
}

/// Which allow-list refused a client address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkScope {
    Key,
    Tenant,
}

impl NetworkScope {
    pub fn as_str(self) -> &'static str {
        match self {
            NetworkScope::Key => "key",
            NetworkScope::Tenant => "tenant",
        }
    }
}

/// The allow-lists that apply to one caller: its key's and its tenant's. An address must be
/// in both (when both are set). An unknown client address is refused by any list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientNetworks {
    key: Option<Box<[IpNet]>>,
    tenant: Option<Box<[IpNet]>>,
}

impl ClientNetworks {
    /// The allow-lists of a key and its tenant, as stored; `None` when neither restricts.
    /// A stored entry that does not parse (never written by the admin API, which checks
    /// every entry) is left out of its list: the list still restricts (fails closed).
    pub fn from_lists(key: Option<&[String]>, tenant: Option<&[String]>) -> Option<Arc<Self>> {
        if key.is_none() && tenant.is_none() {
            return None;
        }
        let parse = |list: &[String]| -> Box<[IpNet]> {
            list.iter()
                .filter_map(|entry| parse_network(entry).ok())
                .collect()
        };
        Some(Arc::new(ClientNetworks {
            key: key.map(parse),
            tenant: tenant.map(parse),
        }))
    }

    /// Whether `ip` may call; the scope of the first list that refuses it otherwise.
    pub fn admits(&self, ip: Option<IpAddr>) -> Result<(), NetworkScope> {
        let ip = ip.map(canonical);
        let inside = |list: &[IpNet]| ip.is_some_and(|ip| list.iter().any(|n| n.contains(&ip)));
        if let Some(list) = &self.tenant
            && !inside(list)
        {
            return Err(NetworkScope::Tenant);
        }
        if let Some(list) = &self.key
            && !inside(list)
        {
            return Err(NetworkScope::Key);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().expect("an address"))
    }

    #[test]
    fn entries_are_parsed_and_normalised() {
        assert_eq!(
            normalize_networks(&s(&["10.1.2.3/8", "192.0.2.7", "2001:db8::1/32", " ::1 "])),
            Ok(s(&[
                "10.0.0.0/8",
                "192.0.2.7/32",
                "2001:db8::/32",
                "::1/128"
            ]))
        );
        assert_eq!(
            normalize_networks(&s(&["::ffff:192.0.2.0/120"])),
            Ok(s(&["192.0.2.0/24"]))
        );
        for bad in [
            "",
            "10.0.0.0/33",
            "example.com",
            "10.0.0/8",
            "1.2.3.4/-1",
            "::/129",
        ] {
            assert!(normalize_networks(&s(&[bad])).is_err(), "{bad} accepted");
        }
        let many = vec!["10.0.0.1".to_owned(); MAX_ALLOWED_NETWORKS + 1];
        assert!(normalize_networks(&many).is_err());
    }

    #[test]
    fn an_address_must_be_in_every_list_that_is_set() {
        assert_eq!(ClientNetworks::from_lists(None, None), None);
        let both = ClientNetworks::from_lists(
            Some(&s(&["10.1.0.0/16"])),
            Some(&s(&["10.0.0.0/8", "2001:db8::/32"])),
        )
        .expect("restricted");
        assert_eq!(both.admits(ip("10.1.2.3")), Ok(()));
        assert_eq!(both.admits(ip("::ffff:10.1.2.3")), Ok(()));
        assert_eq!(both.admits(ip("10.2.0.1")), Err(NetworkScope::Key));
        assert_eq!(both.admits(ip("192.0.2.1")), Err(NetworkScope::Tenant));
        assert_eq!(both.admits(ip("2001:db8::5")), Err(NetworkScope::Key));
        assert_eq!(both.admits(None), Err(NetworkScope::Tenant));

        let tenant_only =
            ClientNetworks::from_lists(None, Some(&s(&["2001:db8::/32"]))).expect("restricted");
        assert_eq!(tenant_only.admits(ip("2001:db8::5")), Ok(()));
        assert_eq!(
            tenant_only.admits(ip("2001:db9::5")),
            Err(NetworkScope::Tenant)
        );

        let empty = ClientNetworks::from_lists(Some(&[]), None).expect("restricted");
        assert_eq!(empty.admits(ip("127.0.0.1")), Err(NetworkScope::Key));
        let garbage = ClientNetworks::from_lists(Some(&s(&["nope"])), None).expect("restricted");
        assert_eq!(garbage.admits(ip("127.0.0.1")), Err(NetworkScope::Key));
    }
}
