//! Which URLs a webhook or a callback may call: `https` (or `http` where `[webhooks]
//! allow_http` says so), no credentials in the URL, and a host whose every address is public
//! unless the operator's `allow_private` networks name it. The name is resolved once per
//! attempt, and the addresses checked here are the ones the sender connects to
//! ([`Target::addrs`]): a DNS answer that changes between check and connect cannot redirect
//! a delivery to an internal service.
//!
//! Not public: unspecified, loopback, private (RFC 1918), shared address space (CGNAT,
//! 100.64/10), link-local (169.254/16: cloud metadata endpoints live there; fe80::/10),
//! unique-local IPv6 (fc00::/7, AWS's fd00:ec2::254 among them), multicast, broadcast and
//! reserved ranges, documentation and benchmarking ranges; an IPv4-mapped, IPv4-compatible
//! or NAT64 IPv6 address is judged by the IPv4 address inside it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use ipnet::IpNet;
use url::{Host, Url};

/// The rules, from `[webhooks]`.
#[derive(Debug, Clone, Default)]
pub struct UrlPolicy {
    pub allow: Vec<IpNet>,
    pub allow_http: bool,
}

/// A URL that passed the rules, with the addresses to connect to.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: Url,
    pub addrs: Vec<SocketAddr>,
}

impl UrlPolicy {
    pub fn from_config(config: &crate::config::WebhooksConfig) -> Self {
        UrlPolicy {
            allow: config.allowed_networks(),
            allow_http: config.allow_http,
        }
    }

    /// Whether a connection to `ip` is allowed.
    pub fn allows(&self, ip: IpAddr) -> bool {
        is_public(ip) || self.allow.iter().any(|net| net.contains(&ip))
    }

    /// The checks that need no DNS: scheme, credentials, host, a literal address.
    pub fn parse(&self, raw: &str) -> Result<Url, String> {
        if raw.len() > 2048 {
            return Err("The URL is longer than 2048 characters.".to_owned());
        }
        let url = Url::parse(raw).map_err(|e| format!("The URL is not valid: {e}."))?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            "http" => return Err("The URL must use https.".to_owned()),
            _ => return Err("The URL must be an https URL.".to_owned()),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("The URL must not carry credentials.".to_owned());
        }
        let literal = match url.host() {
            None => return Err("The URL has no host.".to_owned()),
            Some(Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            Some(Host::Domain(_)) => None,
        };
        if let Some(ip) = literal
            && !self.allows(ip)
        {
            return Err(refused(ip));
        }
        Ok(url)
    }

    /// [`UrlPolicy::parse`], then resolve the host once and check every address.
    pub async fn resolve(&self, raw: &str) -> Result<Target, String> {
        let url = self.parse(raw)?;
        let port = url
            .port_or_known_default()
            .ok_or_else(|| "The URL has no port.".to_owned())?;
        let addrs: Vec<SocketAddr> = match url.host() {
            Some(Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
            Some(Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
            Some(Host::Domain(name)) => tokio::net::lookup_host((name, port))
                .await
                .map_err(|_| format!("The host '{name}' could not be resolved."))?
                .collect(),
            None => return Err("The URL has no host.".to_owned()),
        };
        if addrs.is_empty() {
            return Err("The URL's host has no address.".to_owned());
        }
        // Every address, not only the first: a connection may fall back to any of them.
        if let Some(bad) = addrs.iter().find(|a| !self.allows(a.ip())) {
            return Err(refused(bad.ip()));
        }
        Ok(Target { url, addrs })
    }
}

fn refused(ip: IpAddr) -> String {
    format!(
        "The URL points to {ip}, which is not a public address; an operator can allow it with \
         [webhooks] allow_private."
    )
}

/// Whether `ip` is a public unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let blocked = a == 0                               // "this network", unspecified
        || a == 10                                     // private
        || a == 127                                    // loopback
        || (a == 100 && (64..128).contains(&b))        // shared address space (CGNAT)
        || (a == 169 && b == 254)                      // link-local, cloud metadata
        || (a == 172 && (16..32).contains(&b))         // private
        || (a == 192 && b == 0 && c == 0)              // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2)              // documentation
        || (a == 192 && b == 88 && c == 99)            // 6to4 relay anycast
        || (a == 192 && b == 168)                      // private
        || (a == 198 && (18..20).contains(&b))         // benchmarking
        || (a == 198 && b == 51 && c == 100)           // documentation
        || (a == 203 && b == 0 && c == 113)            // documentation
        || a >= 224; // multicast, reserved, broadcast
    !blocked
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    let blocked = ip.is_unspecified()
        || ip.is_loopback()
        || (s[0] & 0xfe00) == 0xfc00   // unique local (fd00:ec2::254 is AWS's metadata)
        || (s[0] & 0xffc0) == 0xfe80   // link-local
        || (s[0] & 0xffc0) == 0xfec0   // site-local (deprecated)
        || (s[0] & 0xff00) == 0xff00   // multicast
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x0100 && s[1..4] == [0, 0, 0]) // discard-only
        || s[0] == 0x2002; // 6to4: an IPv4 address in disguise
    !blocked
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`)
/// or NAT64 (`64:ff9b::a.b.c.d`) address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = Ipv4Addr::new(
        (s[6] >> 8) as u8,
        (s[6] & 0xff) as u8,
        (s[7] >> 8) as u8,
        (s[7] & 0xff) as u8,
    );
    let mapped = s[..5] == [0; 5] && s[5] == 0xffff;
    let compatible = s[..6] == [0; 6] && !(s[6] == 0 && s[7] <= 1);
    let nat64 = s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0; 4];
    (mapped || compatible || nat64).then_some(tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(allow: &[&str]) -> UrlPolicy {
        UrlPolicy {
            allow: allow.iter().map(|c| c.parse().unwrap()).collect(),
            allow_http: true,
        }
    }

    #[test]
    fn addresses_that_are_not_public() {
        let blocked = [
            "0.0.0.0",
            "10.1.2.3",
            "127.0.0.1",
            "127.8.8.8",
            "100.64.0.1",
            "100.127.255.254",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "192.0.0.8",
            "192.0.2.1",
            "198.18.0.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fe80::1",
            "fc00::1",
            "fd00:ec2::254",
            "ff02::1",
            "fec0::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::1",
            "100::1",
        ];
        for ip in blocked {
            assert!(!is_public(ip.parse().unwrap()), "{ip} is not public");
        }
        let public = [
            "1.1.1.1",
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.1",
            "172.32.0.1",
            "169.253.0.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ];
        for ip in public {
            assert!(is_public(ip.parse().unwrap()), "{ip} is public");
        }
    }

    #[test]
    fn urls_are_checked_before_any_lookup() {
        let strict = UrlPolicy::default();
        let cases = [
            ("http://hooks.example.com/x", "https"),
            ("ftp://hooks.example.com/x", "https URL"),
            ("https://user:pw@hooks.example.com/", "credentials"),
            ("https://127.0.0.1/x", "not a public address"),
            ("https://[::1]:8443/x", "not a public address"),
            ("https://[::ffff:7f00:1]/x", "not a public address"),
            (
                "https://169.254.169.254/latest/meta-data",
                "not a public address",
            ),
            ("https://2130706433/", "not a public address"),
            ("https://0x7f.1/", "not a public address"),
            ("not a url", "not valid"),
        ];
        for (url, why) in cases {
            let err = strict.parse(url).unwrap_err();
            assert!(err.contains(why), "{url}: {err}");
        }
        assert!(strict.parse("https://hooks.example.com/in?x=1").is_ok());
        assert!(strict.parse("https://8.8.8.8/in").is_ok());
        let allowed = policy(&["127.0.0.1/32"]);
        assert!(allowed.parse("http://127.0.0.1:9/x").is_ok());
        assert!(allowed.parse("http://127.0.0.2:9/x").is_err());
    }

    #[tokio::test]
    async fn a_name_is_judged_by_what_it_resolves_to() {
        let strict = policy(&[]);
        let err = strict.resolve("http://localhost:9/x").await.unwrap_err();
        assert!(err.contains("not a public address"), "{err}");
        let allowed = policy(&["127.0.0.0/8", "::1/128"]);
        let target = allowed.resolve("http://localhost:9/x").await.unwrap();
        assert!(target.addrs.iter().all(|a| a.ip().is_loopback()));
        assert!(target.addrs.iter().all(|a| a.port() == 9));
    }
}
