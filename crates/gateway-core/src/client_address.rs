//! The client address of a request (resolved by the edge, which does the I/O): the TCP peer, unless the peer is one of the operator's
//! trusted proxies (`[server] trusted_proxies`); then the rightmost address of the forwarding
//! header (`X-Forwarded-For`, or RFC 7239 `Forwarded: for=` with `forwarded_header =
//! "forwarded"`) that is not itself a trusted proxy.
//!
//! Walking from the right means an address a client wrote into the header itself is only
//! believed when every hop to its right is a trusted proxy: a client cannot spoof its way
//! past the proxy that appended its real address. From an untrusted peer the headers are
//! ignored. An entry that does not parse (garbage, `unknown`, an obfuscated RFC 7239 node,
//! a non-UTF-8 header) stops the walk: the address is then the last hop that was believed.
//! The resolution allocates nothing and looks at a bounded head (`server.max_header_bytes`).

use std::net::{IpAddr, SocketAddr};

use crate::client_networks::{IpNet, canonical, parse_network};
use http::HeaderMap;
use serde::Deserialize;

/// Most entries in `trusted_proxies`.
pub const MAX_TRUSTED_PROXIES: usize = 1024;

/// Which header a trusted proxy writes the client address into.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (nginx, HAProxy, AWS ALB, Envoy).
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client;proto=https, for="[2001:db8::1]:4711"`.
    Forwarded,
}

impl ForwardedHeader {
    fn name(self) -> &'static str {
        match self {
            ForwardedHeader::XForwardedFor => "x-forwarded-for",
            ForwardedHeader::Forwarded => "forwarded",
        }
    }
}

/// The trusted proxies, and the header they write.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    nets: Box<[IpNet]>,
    header: ForwardedHeader,
}

impl TrustedProxies {
    /// Parses `trusted_proxies` (CIDR blocks or addresses); the error names the bad entry.
    pub fn parse(list: &[String]) -> Result<Self, String> {
        if list.len() > MAX_TRUSTED_PROXIES {
            return Err(format!("at most {MAX_TRUSTED_PROXIES} entries"));
        }
        let nets = list
            .iter()
            .map(|entry| parse_network(entry))
            .collect::<Result<Box<[IpNet]>, String>>()?;
        Ok(TrustedProxies {
            nets,
            header: ForwardedHeader::default(),
        })
    }

    /// Reads the client address from `header` instead of `X-Forwarded-For`.
    pub fn with_header(mut self, header: ForwardedHeader) -> Self {
        self.header = header;
        self
    }

    /// Whether `ip` is a trusted proxy.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.nets.iter().any(|n| n.contains(&ip))
    }

    /// The client address of a request that came from `peer` with `headers`.
    pub fn client_address(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let mut current = canonical(peer?);
        if self.nets.is_empty() || !self.trusts(current) {
            return Some(current);
        }
        let forwarded = self.header == ForwardedHeader::Forwarded;
        for value in headers.get_all(self.header.name()).iter().rev() {
            let Ok(text) = value.to_str() else {
                return Some(current);
            };
            for element in text.rsplit(',') {
                let entry = if forwarded {
                    forwarded_for(element)
                } else {
                    Some(element)
                };
                let Some(hop) = entry.and_then(parse_hop) else {
                    return Some(current);
                };
                current = hop;
                if !self.trusts(current) {
                    return Some(current);
                }
            }
        }
        Some(current)
    }
}

/// The `for=` value of one RFC 7239 element (`for=192.0.2.1;proto=https`), unquoted.
fn forwarded_for(element: &str) -> Option<&str> {
    element.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("for") {
            return None;
        }
        let value = value.trim();
        Some(
            value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value),
        )
    })
}

/// One hop: an address, with or without a port (`192.0.2.1:80`, `[2001:db8::1]:80`,
/// `[2001:db8::1]`).
fn parse_hop(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Ok(addr) = entry.parse::<SocketAddr>() {
        return Some(canonical(addr.ip()));
    }
    entry
        .strip_prefix('[')
        .and_then(|e| e.strip_suffix(']'))
        .and_then(|e| e.parse::<IpAddr>().ok())
        .map(canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an address")
    }

    fn proxies(list: &[&str]) -> TrustedProxies {
        let list: Vec<String> = list.iter().map(|s| (*s).to_owned()).collect();
        TrustedProxies::parse(&list).expect("valid")
    }

    fn headers(name: &str, values: &[&[u8]]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).expect("name"),
                http::HeaderValue::from_bytes(v).expect("value"),
            );
        }
        map
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let p = proxies(&["10.0.0.0/8"]);
        let h = headers("x-forwarded-for", &[b"203.0.113.9"]);
        assert_eq!(
            p.client_address(Some(ip("198.51.100.1")), &h),
            Some(ip("198.51.100.1"))
        );
        let none = TrustedProxies::default();
        assert_eq!(
            none.client_address(Some(ip("10.0.0.1")), &h),
            Some(ip("10.0.0.1"))
        );
        assert_eq!(p.client_address(None, &h), None);
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let p = proxies(&["10.0.0.0/8", "2001:db8:ffff::/48"]);
        // The client wrote "1.1.1.1" itself; the proxy appended the real address.
        let h = headers("x-forwarded-for", &[b"1.1.1.1, 203.0.113.9, 10.0.0.2"]);
        assert_eq!(
            p.client_address(Some(ip("10.0.0.1")), &h),
            Some(ip("203.0.113.9"))
        );
        // Several header lines are one list, in order.
        let h = headers(
            "x-forwarded-for",
            &[b"1.1.1.1", b"203.0.113.9:5000, 10.1.1.1"],
        );
        assert_eq!(
            p.client_address(Some(ip("::ffff:10.0.0.1")), &h),
            Some(ip("203.0.113.9"))
        );
        let h = headers("x-forwarded-for", &[b"[2001:db8::7]:443"]);
        assert_eq!(
            p.client_address(Some(ip("2001:db8:ffff::1")), &h),
            Some(ip("2001:db8::7"))
        );
        // Every hop trusted: the leftmost.
        let h = headers("x-forwarded-for", &[b"10.9.9.9, 10.0.0.2"]);
        assert_eq!(
            p.client_address(Some(ip("10.0.0.1")), &h),
            Some(ip("10.9.9.9"))
        );
        // No header: the proxy itself.
        assert_eq!(
            p.client_address(Some(ip("10.0.0.1")), &HeaderMap::new()),
            Some(ip("10.0.0.1"))
        );
    }

    #[test]
    fn a_malformed_entry_stops_the_walk() {
        let p = proxies(&["10.0.0.0/8"]);
        for bad in [
            &b"203.0.113.9, garbage"[..],
            b"203.0.113.9, ",
            b"203.0.113.9,unknown",
            b"203.0.113.9, 10.0.0.300",
            b"\xff\xfe",
        ] {
            let h = headers("x-forwarded-for", &[bad]);
            assert_eq!(
                p.client_address(Some(ip("10.0.0.1")), &h),
                Some(ip("10.0.0.1")),
                "{bad:?}"
            );
        }
        let h = headers("x-forwarded-for", &[b"203.0.113.9, junk, 10.0.0.2"]);
        assert_eq!(
            p.client_address(Some(ip("10.0.0.1")), &h),
            Some(ip("10.0.0.2"))
        );
    }

    #[test]
    fn rfc_7239_forwarded_when_configured() {
        let p = proxies(&["10.0.0.0/8"]).with_header(ForwardedHeader::Forwarded);
        let h = headers(
            "forwarded",
            &[b"for=1.1.1.1, for=\"[2001:db8::9]:4711\";proto=https, For=10.0.0.2;by=10.0.0.1"],
        );
        assert_eq!(
            p.client_address(Some(ip("10.0.0.1")), &h),
            Some(ip("2001:db8::9"))
        );
        let h = headers("forwarded", &[b"for=_hidden, for=10.0.0.2"]);
        assert_eq!(
            p.client_address(Some(ip("10.0.0.1")), &h),
            Some(ip("10.0.0.2"))
        );
        // X-Forwarded-For is not read in this mode.
        let h = headers("x-forwarded-for", &[b"203.0.113.9"]);
        assert_eq!(
            p.client_address(Some(ip("10.0.0.1")), &h),
            Some(ip("10.0.0.1"))
        );
    }

    #[test]
    fn bad_configuration_is_refused() {
        assert!(TrustedProxies::parse(&["10.0.0.0/33".to_owned()]).is_err());
        assert!(TrustedProxies::parse(&["proxy.local".to_owned()]).is_err());
        assert!(TrustedProxies::parse(&vec!["10.0.0.1".to_owned(); 1025]).is_err());
    }
}
