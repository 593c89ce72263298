//! Server-side request forgery guard: webhooks go to the public internet only,
//! unless a network is explicitly allowed (`allowed_subnets`), or the request
//! is to hookline's own listening address (its port on its own addresses).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use ipnet::IpNet;

/// Why an address may not be called.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{ip} is a {kind} address, {ONLY_IF_ALLOWED}")]
pub struct Blocked {
    pub ip: IpAddr,
    pub kind: &'static str,
}

/// A host name that resolves only to addresses the guard refuses (the
/// resolver's error, found again in a failed request's causes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{host} resolves to {}, a {} address, {ONLY_IF_ALLOWED}", .blocked.ip, .blocked.kind)]
pub struct NameBlocked {
    pub host: String,
    pub blocked: Blocked,
}

/// The end of every refusal: the setting that would allow it.
const ONLY_IF_ALLOWED: &str = "which hookline calls only when its network is in allowed_subnets";

/// The kind of non-public range `ip` is in, if any.
pub fn special_range(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_range(v4),
        IpAddr::V6(v6) => v6_range(v6),
    }
}

fn v4_range(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    let kind = match (a, b, c) {
        _ if ip.is_loopback() => "loopback",
        _ if ip.is_private() => "private",
        _ if ip.is_link_local() => "link-local",
        _ if ip.is_multicast() => "multicast",
        _ if ip.is_broadcast() => "broadcast",
        (0, ..) => "unspecified",
        (100, 64..=127, _) => "shared (CGNAT)",
        (192, 0, 0) => "IETF protocol",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (198, 18..=19, _) => "benchmarking",
        (240..=255, ..) => "reserved",
        _ => return None,
    };
    Some(kind)
}

fn v6_range(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_range(v4);
    }
    let seg = ip.segments();
    let kind = match seg {
        _ if ip.is_unspecified() => "unspecified",
        _ if ip.is_loopback() => "loopback",
        _ if ip.is_multicast() => "multicast",
        [s, ..] if s & 0xfe00 == 0xfc00 => "unique local",
        [s, ..] if s & 0xffc0 == 0xfe80 => "link-local",
        [0x2001, 0x0db8, ..] => "documentation",
        [0x0064, 0xff9b, ..] => {
            // NAT64: judge the embedded IPv4 address.
            let v4 = Ipv4Addr::new(
                (seg[6] >> 8) as u8,
                seg[6] as u8,
                (seg[7] >> 8) as u8,
                seg[7] as u8,
            );
            return v4_range(v4);
        }
        [0x0100, 0, 0, 0, ..] => "discard",
        [0, 0, 0, 0, 0, 0, ..] => "IPv4-compatible",
        _ => return None,
    };
    Some(kind)
}

/// The allow-list applied to every address a delivery would connect to.
#[derive(Debug, Clone, Default)]
pub struct Guard {
    allowed: Vec<IpNet>,
    /// hookline's own listening port and the addresses it answers on there.
    own: Option<(u16, Vec<IpNet>)>,
}

impl Guard {
    pub fn new(allowed: Vec<IpNet>) -> Guard {
        Guard { allowed, own: None }
    }

    /// Also lets requests through to hookline's own listening address (so
    /// the UI's Send page can call hookline's own `/webhook/…`): its port on
    /// the address it listens on, or on loopback when it listens on all.
    pub fn with_own(mut self, listening: Option<SocketAddr>) -> Guard {
        let Some(listening) = listening else {
            return self;
        };
        let ip = listening.ip();
        let nets = if ip.is_unspecified() {
            vec![
                "127.0.0.0/8".parse().unwrap_or_default(),
                IpNet::from(IpAddr::V6(Ipv6Addr::LOCALHOST)),
            ]
        } else {
            vec![IpNet::from(ip)]
        };
        self.own = Some((listening.port(), nets));
        self
    }

    /// hookline's own listening port, if it is known.
    pub fn own_port(&self) -> Option<u16> {
        self.own.as_ref().map(|(port, _)| *port)
    }

    /// The guard for connections to `port`: on hookline's own port, its own
    /// addresses are allowed too (a resolver sees no port, so it takes this).
    pub fn at_port(&self, port: u16) -> Guard {
        let mut allowed = self.allowed.clone();
        if let Some((own, nets)) = &self.own {
            if *own == port {
                allowed.extend(nets.iter().copied());
            }
        }
        Guard { allowed, own: None }
    }

    /// A guard that lets every address through: for requests the operator
    /// wrote down (a route in `hookline.toml`), never for what the API made.
    pub fn open() -> Guard {
        let every: [IpNet; 2] = [
            IpNet::V4(ipnet::Ipv4Net::default()),
            IpNet::V6(ipnet::Ipv6Net::default()),
        ];
        Guard::new(every.to_vec())
    }

    pub fn check(&self, ip: IpAddr) -> Result<(), Blocked> {
        let plain = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match special_range(plain) {
            Some(kind) if !self.allowed.iter().any(|n| n.contains(&plain)) => {
                Err(Blocked { ip, kind })
            }
            _ => Ok(()),
        }
    }

    /// Checks a URL whose host is a literal IP address (names are checked when
    /// they are resolved, by the outbound client's resolver).
    pub fn check_url(&self, url: &url::Url) -> Result<(), Blocked> {
        let guard = self.at_port(url.port_or_known_default().unwrap_or(80));
        match url.host() {
            Some(url::Host::Ipv4(ip)) => guard.check(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => guard.check(IpAddr::V6(ip)),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_open_guard_lets_loopback_and_private_addresses_through() {
        let open = Guard::open();
        for ip in ["127.0.0.1", "10.1.2.3", "::1", "fd00::1", "169.254.169.254"] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(open.check(ip).is_ok(), "{ip}");
            assert!(Guard::default().check(ip).is_err(), "{ip}");
        }
    }

    #[test]
    fn refuses_every_special_range() {
        let g = Guard::default();
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "240.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::7f00:1",
            "100::1",
        ] {
            assert!(
                g.check(ip.parse().unwrap()).is_err(),
                "{ip} must be refused"
            );
        }
        for ip in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert!(g.check(ip.parse().unwrap()).is_ok(), "{ip} is public");
        }
    }

    #[test]
    fn its_own_listening_address_is_allowed_and_nothing_beside_it() {
        let url = |u: &str| url::Url::parse(u).unwrap();
        let all = Guard::default().with_own("0.0.0.0:3000".parse().ok());
        for ok in [
            "http://127.0.0.1:3000/webhook/x",
            "http://[::1]:3000/",
            "http://127.0.0.2:3000/",
        ] {
            assert!(all.check_url(&url(ok)).is_ok(), "{ok}");
        }
        for refused in [
            "http://127.0.0.1:3001/",
            "http://10.0.0.1:3000/",
            "http://127.0.0.1/",
        ] {
            assert!(all.check_url(&url(refused)).is_err(), "{refused}");
        }
        let one = Guard::default().with_own("127.0.0.1:8080".parse().ok());
        assert!(one.check_url(&url("http://127.0.0.1:8080/")).is_ok());
        assert!(one.check_url(&url("http://127.0.0.2:8080/")).is_err());
        assert!(one
            .at_port(8080)
            .check("127.0.0.1".parse().unwrap())
            .is_ok());
        assert!(one
            .at_port(8081)
            .check("127.0.0.1".parse().unwrap())
            .is_err());
    }

    #[test]
    fn allowed_subnets_open_a_range() {
        let g = Guard::new(vec!["127.0.0.0/8".parse().unwrap()]);
        assert!(g.check("127.0.0.1".parse().unwrap()).is_ok());
        assert!(g.check("::ffff:127.0.0.1".parse().unwrap()).is_ok());
        assert!(g.check("10.0.0.1".parse().unwrap()).is_err());
        let err = Guard::default()
            .check("10.0.0.1".parse().unwrap())
            .unwrap_err();
        assert!(err.to_string().contains("private"));
    }
}
