//! Where model calls may go. Tenants choose their connections' base URLs and the server calls
//! them, so without a rule any tenant could make the server reach into its own network (a
//! cloud's metadata service, a database port, an admin page). Unless the operator lets calls
//! reach private networks (a self-hosted Ollama or LM Studio beside the server), every address
//! a call connects to must be a public one: checked as the name is resolved, so a name that
//! resolves to a private address (or is changed to one later) is refused, and for an address
//! written in the URL itself, which is never resolved.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::model::{Endpoint, LlmError};

/// Which addresses calls may reach.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// Public addresses only.
    PublicOnly,
    /// Any address, private networks and this machine included.
    Anywhere,
}

/// Why a call was not made: the address it would reach is not public.
#[derive(Debug)]
pub struct PrivateAddress(pub String);

impl std::fmt::Display for PrivateAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} is a private network address, which calls from this server may not reach",
            self.0
        )
    }
}

impl std::error::Error for PrivateAddress {}

/// Resolves names as the system does, keeping only their public addresses.
pub struct PublicResolver;

impl Resolve for PublicResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<_> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<_> = found
                .iter()
                .copied()
                .filter(|a| is_public(a.ip()))
                .collect();
            if public.is_empty() {
                let shown = found
                    .first()
                    .map_or(host.clone(), |address| format!("{host} ({})", address.ip()));
                return Err(Box::new(PrivateAddress(shown)) as Box<_>);
            }
            let addrs: Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

/// Refuses an endpoint whose URL names a private address outright (such a host is never
/// resolved, so the resolver cannot see it), or that is not an http(s) URL at all.
pub fn check_endpoint(endpoint: &Endpoint, reach: Reach) -> Result<(), LlmError> {
    let url = reqwest::Url::parse(&endpoint.base_url)
        .map_err(|_| LlmError::Misconfigured("the base URL is not a URL".into()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(LlmError::Misconfigured(
            "the base URL must be an http or https URL".into(),
        ));
    }
    if reach == Reach::Anywhere {
        return Ok(());
    }
    let host = url.host_str().unwrap_or_default();
    let Ok(ip) = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    else {
        return Ok(());
    };
    if is_public(ip) {
        Ok(())
    } else {
        Err(LlmError::Misconfigured(
            PrivateAddress(ip.to_string()).to_string(),
        ))
    }
}

/// Whether an address is on the public internet: not loopback, private, link-local, shared
/// (carrier NAT), reserved, documentation, benchmarking, multicast or unspecified, and not
/// such an IPv4 address inside an IPv6 one (mapped, NAT64 or 6to4).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_public_v4(ip),
        IpAddr::V6(ip) => is_public_v6(ip),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let segments = ip.segments();
    let embedded_v4 = |high: u16, low: u16| {
        Ipv4Addr::new(
            (high >> 8) as u8,
            (high & 0xff) as u8,
            (low >> 8) as u8,
            (low & 0xff) as u8,
        )
    };
    // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address the packet ends up at.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return is_public_v4(embedded_v4(segments[6], segments[7]));
    }
    if segments[0] == 0x2002 {
        return is_public_v4(embedded_v4(segments[1], segments[2]));
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (segments[0] & 0xfe00) == 0xfc00 // unique local
        || (segments[0] & 0xffc0) == 0xfe80 // link-local
        || (segments[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation
        || segments[..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible (deprecated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "198.18.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:c0a8:0101::1",
            "2001:db8::1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in [
            "1.1.1.1",
            "8.8.8.8",
            "2606:4700:4700::1111",
            "::ffff:1.1.1.1",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }
}
