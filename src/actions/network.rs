//! Where webhook and Airflow hooks may connect: never to an address in
//! `actions.network.blocked_addresses`, whether the URL names it or a host
//! name resolves to it (the client's resolver drops blocked addresses, and
//! refuses a name that leads only there). Redirects are not followed, so
//! the checked address is the one connected to.

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// The blocked ranges.
#[derive(Debug, Clone, Default)]
pub struct Blocked(Arc<Vec<IpNet>>);

impl Blocked {
    /// Parses `ranges` (CIDRs, or single addresses).
    pub fn parse(ranges: &[String]) -> anyhow::Result<Self> {
        let mut nets = Vec::with_capacity(ranges.len());
        for r in ranges {
            let net = match r.parse::<IpNet>() {
                Ok(n) => n,
                Err(_) => IpNet::from(r.parse::<IpAddr>().map_err(|_| {
                    anyhow::anyhow!(
                        "actions.network.blocked_addresses: {r:?} is neither an address nor a range"
                    )
                })?),
            };
            nets.push(net);
        }
        Ok(Self(Arc::new(nets)))
    }

    fn blocks(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        self.0.iter().any(|n| n.contains(&ip))
    }

    /// Refuses a URL whose host is a blocked address (host names are
    /// checked when they are resolved).
    pub fn check_url(&self, url: &str) -> Result<(), String> {
        let Ok(parsed) = reqwest::Url::parse(url) else {
            return Ok(());
        };
        let host = parsed.host_str().unwrap_or("");
        let Ok(ip) = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        else {
            return Ok(());
        };
        if self.blocks(ip) {
            return Err(format!(
                "the hook's address {ip} is blocked (actions.network.blocked_addresses)"
            ));
        }
        Ok(())
    }
}

impl Resolve for Blocked {
    fn resolve(&self, name: Name) -> Resolving {
        let this = self.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| !this.blocks(a.ip()))
                .collect();
            if allowed.is_empty() && !found.is_empty() {
                let why = format!(
                    "{host} resolves only to blocked addresses (actions.network.blocked_addresses)"
                );
                return Err(why.into());
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_addresses_block_urls_by_number() {
        let b = Blocked::parse(&[
            "169.254.0.0/16".into(),
            "10.1.2.3".into(),
            "fe80::/10".into(),
        ])
        .unwrap();
        assert!(b
            .check_url("http://169.254.169.254/latest/meta-data")
            .is_err());
        assert!(b.check_url("http://10.1.2.3:8080/x").is_err());
        assert!(b.check_url("http://[fe80::1]/x").is_err());
        assert!(b.check_url("http://[::ffff:169.254.1.1]/x").is_err());
        assert!(b.check_url("http://10.1.2.4/x").is_ok());
        assert!(b.check_url("https://example.com/x").is_ok());
        assert!(Blocked::parse(&["not an address".into()]).is_err());
    }
}
