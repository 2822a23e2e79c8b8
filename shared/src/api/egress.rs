//! The SSRF guard where a party writes a destination: an address the
//! sender would refuse is refused now, naming the field, instead of every
//! delivery failing later. Names are resolved; one that does not resolve
//! yet is let through (the sender checks every address it connects to).
use super::Problem;
use crate::config::{Destination, Subscription};

pub async fn check(state: &super::ApiState, s: &Subscription) -> Result<(), Problem> {
    for (field, d) in s.destinations() {
        if let Destination::Http(h) = d {
            let at = super::problem::pointer(&format!("{field}.url"));
            refuse(state, &at, &h.url).await?;
        }
    }
    Ok(())
}

/// The URL's host, if it is an address or a name that resolves now, must
/// be one the sender may reach.
pub async fn refuse(state: &super::ApiState, at: &str, url: &str) -> Result<(), Problem> {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return Ok(()); // validation names a URL that does not parse
    };
    let addresses: Vec<std::net::IpAddr> = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => vec![ip.into()],
        Some(url::Host::Ipv6(ip)) => vec![ip.into()],
        Some(url::Host::Domain(name)) => {
            let port = parsed.port_or_known_default().unwrap_or(443);
            tokio::net::lookup_host((name, port))
                .await
                .map(|a| a.map(|s| s.ip()).collect())
                .unwrap_or_default()
        }
        None => Vec::new(),
    };
    for ip in addresses {
        if let Err(why) = state.egress.check(ip) {
            return Err(Problem::invalid(
                at,
                format!("the sender may not reach this address: {why}"),
            ));
        }
    }
    Ok(())
}
