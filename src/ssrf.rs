//! The SSRF rule's test, without the network: whether an IP address is
//! public, and [`check_literal`] for a URL whose host is written as one.
//! It sits below both of its users: `config` refuses a webhook written as a
//! private address when it reads the file, and `fetch::guard` applies the
//! same test to every hop (and to what its resolver returns).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// Whether `ip` is a globally routable unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
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
        || a == 0                              // "this network"
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0)       // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19))   // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let segments = ip.segments();
    // NAT64 (64:ff9b::/96) embeds an IPv4 address.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [a, b] = segments[6].to_be_bytes();
        let [c, d] = segments[7].to_be_bytes();
        return is_public_v4(Ipv4Addr::new(a, b, c, d));
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

/// Why an article link is not fetched.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "refused to fetch {what}: it resolves to the non-public address {ip} (set [fetch] allow_private_networks = true to allow)"
)]
pub struct Refused {
    pub what: String,
    pub ip: IpAddr,
}

/// Checks a URL whose host is an IP literal; names pass (the resolver checks them).
pub fn check_literal(url: &Url) -> Result<(), Refused> {
    let ip = match url.host() {
        Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
        _ => return Ok(()),
    };
    if is_public(ip) {
        Ok(())
    } else {
        Err(Refused {
            what: url.to_string(),
            ip,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(s: &str) -> bool {
        is_public(s.parse().unwrap())
    }

    #[test]
    fn private_and_special_ipv4_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "198.18.0.1",
            "240.0.0.1",
        ] {
            assert!(!public(ip), "{ip}");
        }
        assert!(public("93.184.216.34"));
        assert!(public("8.8.8.8"));
    }

    #[test]
    fn ipv6_loopback_mapped_and_local_are_not_public() {
        for ip in [
            "::1",
            "::",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "fd00::1",
            "fe80::1",
            "64:ff9b::a00:1",
            "::127.0.0.1",
        ] {
            assert!(!public(ip), "{ip}");
        }
        assert!(public("2606:4700:4700::1111"));
        assert!(public("::ffff:8.8.8.8"));
    }

    #[test]
    fn odd_spellings_of_loopback_are_refused() {
        for url in [
            "http://2130706433/",
            "http://0177.0.0.1/",
            "http://0x7f.1/",
            "http://127.1/",
            "http://[::ffff:7f00:1]/",
            "http://[::1]:8080/",
        ] {
            let url = Url::parse(url).unwrap();
            assert!(check_literal(&url).is_err(), "{url}");
        }
        assert!(check_literal(&Url::parse("http://8.8.8.8/").unwrap()).is_ok());
        assert!(check_literal(&Url::parse("http://localhost/").unwrap()).is_ok());
    }
}
