//! Which client a connection counts as for per-client limits and throttles: an IPv4 address,
//! or the /64 of an IPv6 one (a client usually holds a whole /64 and can change address within
//! it at will). An IPv4-mapped IPv6 address counts as the IPv4 address.

use std::net::IpAddr;

/// The first four 16-bit groups of an IPv6 address make its /64.
const IPV6_PREFIX_SEGMENTS: usize = 4;

pub fn client_source(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[IPV6_PREFIX_SEGMENTS..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_table() {
        let cases = [
            ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::"),
            ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::"),
            ("::ffff:192.0.2.5", "192.0.2.5"),
            ("192.0.2.5", "192.0.2.5"),
            ("::1", "::"),
        ];
        for (input, source) in cases {
            let input: IpAddr = input.parse().unwrap();
            assert_eq!(
                client_source(input),
                source.parse::<IpAddr>().unwrap(),
                "{input}"
            );
        }
    }
}
