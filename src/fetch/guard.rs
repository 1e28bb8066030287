//! The SSRF rule (SPEC, Security): article links come from feeds and are not
//! trusted. A link whose site ([`super::site::same_site`]: scheme, host and
//! port) differs from its feed's must not reach a loopback, private, link-local or otherwise non-public address.
//!
//! Two places enforce it: [`check_literal`] (from [`crate::ssrf`], which
//! `config` uses too) for hosts written as IP addresses
//! (in any spelling: the `url` crate turns `2130706433` or `0177.0.0.1` into
//! `127.0.0.1`), and [`PublicOnlyResolver`] for names, which drops non-public
//! addresses after resolution, so a name cannot be re-pointed between a check
//! and the connection.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

pub use crate::ssrf::{Refused, check_literal, is_public};

/// The rule for a request that goes through a proxy (which resolves the
/// name itself, so [`PublicOnlyResolver`] never sees it): the target is
/// resolved here and refused unless every address is public. A name
/// re-pointed between this check and the proxy's lookup is beyond reach.
pub async fn check_resolved(url: &Url) -> Result<(), Refused> {
    check_literal(url)?;
    let Some(Host::Domain(host)) = url.host() else {
        return Ok(());
    };
    let resolved = tokio::net::lookup_host((host, url.port_or_known_default().unwrap_or(80)))
        .await
        .map(|addrs| addrs.collect::<Vec<SocketAddr>>())
        .unwrap_or_default();
    // A name that does not resolve here is left to the proxy (an internal
    // name only it knows is the operator's business only on trusted hosts,
    // and this is not one): refused too.
    match resolved.iter().find(|a| !is_public(a.ip())) {
        Some(private) => Err(Refused {
            what: host.to_owned(),
            ip: private.ip(),
        }),
        None if resolved.is_empty() => Err(Refused {
            what: format!("{host} (no address here)"),
            ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        }),
        None => Ok(()),
    }
}

/// A DNS resolver that only returns public addresses, for untrusted hosts.
#[derive(Debug, Default, Clone, Copy)]
pub struct PublicOnlyResolver;

impl Resolve for PublicOnlyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = resolved
                .iter()
                .copied()
                .filter(|a| is_public(a.ip()))
                .collect();
            match (public.is_empty(), resolved.first()) {
                (false, _) => Ok(Box::new(public.into_iter()) as Addrs),
                (true, Some(first)) => Err(Box::new(Refused {
                    what: host,
                    ip: first.ip(),
                }) as _),
                (true, None) => Err(format!("{host} has no address").into()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn resolver_refuses_names_of_loopback() {
        let name: Name = "localhost".parse().unwrap();
        let result = PublicOnlyResolver.resolve(name).await;
        let error = result.err().expect("localhost must be refused").to_string();
        assert!(error.contains("non-public"), "{error}");
    }
}
