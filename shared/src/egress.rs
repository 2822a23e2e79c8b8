//! The SSRF guard: where deliveries may go.
//!
//! A destination that resolves to a loopback, private, link-local, shared
//! (CGNAT), unspecified, multicast or cloud-metadata address is refused
//! unless the deployment's allow-list (`EGRESS_ALLOW`, CIDRs) covers it. So
//! are the ranges that carry an IPv4 address inside IPv6 (NAT64, 6to4,
//! Teredo, IPv4-compatible: each can tunnel to an internal IPv4 address) and
//! the special-purpose ranges no receiver lives in (benchmarking, IETF
//! protocol assignments, documentation), as Svix refuses them. The
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
    pub fn parse(s: &str) -> Result<Self, NotANetwork> {
        s.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                p.parse::<IpNet>()
                    .or_else(|_| p.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| NotANetwork(p.to_owned()))
            })
            .collect::<Result<_, _>>()
            .map(AllowList)
    }

    pub fn allows(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(&ip))
    }

    /// `Ok` when `ip` may be reached; otherwise why not.
    pub fn check(&self, ip: IpAddr) -> Result<(), Refused> {
        match forbidden(ip) {
            Some(kind) if !self.allows(ip) => Err(Refused { ip, kind }),
            _ => Ok(()),
        }
    }
}

/// An entry of `EGRESS_ALLOW` that is no address or network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an address or CIDR network")]
pub struct NotANetwork(pub String);

/// An address the guard refuses, and what kind it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{ip} is a {kind} address (not in the deployment's EGRESS_ALLOW list)")]
pub struct Refused {
    pub ip: IpAddr,
    pub kind: &'static str,
}

impl AllowList {}

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
            } else if o[0] == 198 && (o[1] & 0xfe) == 18 {
                Some("benchmarking (198.18.0.0/15)")
            } else if o[..3] == [192, 0, 0] {
                Some("IETF protocol assignments (192.0.0.0/24)")
            } else if matches!(o[..3], [192, 0, 2] | [198, 51, 100] | [203, 0, 113]) {
                Some("documentation")
            } else if o[..3] == [192, 88, 99] {
                Some("6to4 relay (192.88.99.0/24)")
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
            } else if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] || s[..3] == [0x64, 0xff9b, 1] {
                Some("NAT64 (64:ff9b::/96, 64:ff9b:1::/48)")
            } else if s[0] == 0x2002 {
                Some("6to4 (2002::/16)")
            } else if s[..2] == [0x2001, 0] {
                Some("Teredo (2001::/32)")
            } else if s[..2] == [0x2001, 0xdb8] {
                Some("documentation (2001:db8::/32)")
            } else if s[..6] == [0, 0, 0, 0, 0, 0] {
                // ::a.b.c.d (loopback and unspecified were caught above).
                Some("IPv4-compatible (::/96)")
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
        AllowList::parse(list)
            .unwrap()
            .check(ip.parse().unwrap())
            .map_err(|e| e.to_string())
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
    fn ranges_that_tunnel_or_document_are_refused_as_svix_does() {
        for (ip, kind) in [
            // NAT64 embeds an IPv4 address: 64:ff9b::7f00:1 is 127.0.0.1.
            ("64:ff9b::7f00:1", "NAT64"),
            ("64:ff9b::808:808", "NAT64"),
            ("64:ff9b:1::1", "NAT64"),
            // 6to4 embeds one too (2002:7f00:1:: is 127.0.0.1).
            ("2002:7f00:1::1", "6to4"),
            ("2002:808:808::1", "6to4"),
            // IPv4-compatible (deprecated) addresses.
            ("::127.0.0.1", "IPv4-compatible"),
            ("::8.8.8.8", "IPv4-compatible"),
            ("2001::1", "Teredo"),
            ("198.18.0.1", "benchmarking"),
            ("198.19.255.254", "benchmarking"),
            ("192.0.0.8", "IETF protocol assignments"),
            ("192.0.2.1", "documentation"),
            ("198.51.100.7", "documentation"),
            ("203.0.113.9", "documentation"),
            ("2001:db8::1", "documentation"),
            ("192.88.99.1", "6to4 relay"),
        ] {
            let err = check("", ip).expect_err(ip);
            assert!(err.contains(kind), "{ip}: {err}");
        }
        // Their neighbours stay reachable.
        for ip in [
            "198.20.0.1",
            "192.0.1.1",
            "203.0.114.1",
            "2001:db9::1",
            "64:ff9c::1",
        ] {
            assert_eq!(check("", ip), Ok(()), "{ip}");
        }
        // The allow-list still opens them explicitly.
        assert_eq!(check("198.18.0.0/15", "198.18.0.1"), Ok(()));
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
