//! The SSRF guard: where deliveries may go.
//!
//! A destination that resolves to a loopback, private, link-local, shared
//! (CGNAT), unspecified, multicast or cloud-metadata address is refused
//! unless the deployment's allow-list (`EGRESS_ALLOW`, CIDRs) covers it. The
//! HTTP client checks every address DNS gives it before connecting, so a
//! name that later resolves elsewhere (DNS rebinding) is caught too.
use ipnet::IpNet;
use std::net::IpAddr;

/// Networks the deployment allows despite the rules above.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList(Vec<IpNet>);

impl AllowList {
    /// Parses `127.0.0.1/32, 10.20.0.0/16` (a bare address means /32 or
    /// /128). Empty: nothing extra is allowed.
    pub fn parse(s: &str) -> Result<Self, String> {
        s.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                p.parse::<IpNet>()
                    .or_else(|_| p.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("`{p}` is not an address or CIDR network"))
            })
            .collect::<Result<_, _>>()
            .map(AllowList)
    }

    pub fn allows(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(&ip))
    }

    /// `Ok` when `ip` may be reached; otherwise why not.
    pub fn check(&self, ip: IpAddr) -> Result<(), String> {
        match forbidden(ip) {
            Some(kind) if !self.allows(ip) => Err(format!(
                "{ip} is a {kind} address (not in the deployment's EGRESS_ALLOW list)"
            )),
            _ => Ok(()),
        }
    }
}

/// What kind of address must not be reached by default, if any.
pub fn forbidden(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            if o == [169, 254, 169, 254] {
                Some("cloud metadata")
            } else if v4.is_loopback() {
                Some("loopback")
            } else if v4.is_private() {
                Some("private")
            } else if v4.is_link_local() {
                Some("link-local")
            } else if o[0] == 100 && (64..128).contains(&o[1]) {
                Some("shared (CGNAT)")
            } else if v4.is_unspecified() || o[0] == 0 {
                Some("unspecified")
            } else if v4.is_multicast() || v4.is_broadcast() || o[0] >= 240 {
                Some("multicast or reserved")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden(IpAddr::V4(v4));
            }
            let s = v6.segments();
            if s == [0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254] {
                Some("cloud metadata")
            } else if v6.is_loopback() {
                Some("loopback")
            } else if v6.is_unspecified() {
                Some("unspecified")
            } else if v6.is_unique_local() {
                Some("private")
            } else if v6.is_unicast_link_local() {
                Some("link-local")
            } else if v6.is_multicast() {
                Some("multicast or reserved")
            } else {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(list: &str, ip: &str) -> Result<(), String> {
        AllowList::parse(list).unwrap().check(ip.parse().unwrap())
    }

    #[test]
    fn internal_addresses_are_refused_by_default() {
        for (ip, kind) in [
            ("127.0.0.1", "loopback"),
            ("10.1.2.3", "private"),
            ("172.16.0.9", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "cloud metadata"),
            ("169.254.10.1", "link-local"),
            ("100.64.0.1", "shared (CGNAT)"),
            ("0.0.0.0", "unspecified"),
            ("::1", "loopback"),
            ("fd00:ec2::254", "cloud metadata"),
            ("fc00::1", "private"),
            ("fe80::1", "link-local"),
            ("::ffff:127.0.0.1", "loopback"),
        ] {
            let err = check("", ip).unwrap_err();
            assert!(err.contains(kind), "{ip}: {err}");
        }
        for ip in [
            "93.184.215.14",
            "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
            "8.8.8.8",
        ] {
            assert_eq!(check("", ip), Ok(()), "{ip}");
        }
    }

    #[test]
    fn the_allow_list_opens_exactly_what_it_names() {
        assert_eq!(check("127.0.0.1", "127.0.0.1"), Ok(()));
        assert!(check("127.0.0.1", "127.0.0.2").is_err());
        assert_eq!(check("10.0.0.0/8, ::1", "10.200.1.1"), Ok(()));
        assert_eq!(check("10.0.0.0/8, ::1", "::1"), Ok(()));
        assert!(check("10.0.0.0/8", "169.254.169.254").is_err());
        assert!(AllowList::parse("10.0.0.0/33").is_err());
        assert!(AllowList::parse("localhost").is_err());
    }
}
