//! The next hop for a recipient domain: a static `[relay] routes` entry first, else the MX
//! records in preference order, else the domain itself as implicit MX (RFC 5321 §5.1).

use std::collections::BTreeMap;
use std::fmt;

use hickory_resolver::TokioResolver;
use hickory_resolver::proto::rr::RData;
use tokio::sync::OnceCell;

use super::outcome::Failure;
use crate::error::{Error, Result};

pub const SMTP_PORT: u16 = 25;

/// A host to connect to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NextHop {
    /// Host name (also the TLS SNI) or IP address.
    pub host: String,
    pub port: u16,
}

impl NextHop {
    /// `host:port`, `host` (port 25), `[v6]:port` or `[v6]`.
    pub fn parse(text: &str) -> std::result::Result<NextHop, String> {
        let text = text.trim();
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (host, after) = rest
                .split_once(']')
                .ok_or("an opening [ without its closing ]")?;
            match after {
                "" => (host, None),
                _ => (
                    host,
                    Some(after.strip_prefix(':').ok_or("expected :port after ]")?),
                ),
            }
        } else {
            match text.rsplit_once(':') {
                Some((_, _)) if text.matches(':').count() > 1 => {
                    return Err("an IPv6 address must be written in brackets, [addr]:port".into());
                }
                Some((host, port)) => (host, Some(port)),
                None => (text, None),
            }
        };
        if host.is_empty() {
            return Err("the host is empty".into());
        }
        if host
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '/')
        {
            return Err(format!("{host:?} is not a host name or address"));
        }
        let port = match port {
            None => SMTP_PORT,
            Some(port) => match port.parse::<u16>() {
                Ok(0) | Err(_) => return Err(format!("{port:?} is not a port number (1-65535)")),
                Ok(port) => port,
            },
        };
        Ok(NextHop {
            host: host.to_ascii_lowercase(),
            port,
        })
    }
}

impl fmt::Display for NextHop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// One MX record: preference and exchange host (as DNS gives it, maybe with a final dot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MxRecord {
    pub preference: u16,
    pub exchange: String,
}

/// Hosts to try, in order, from MX records (RFC 5321 §5.1): lowest preference first (equal
/// preferences keep DNS order); none gives the domain itself. A null MX (RFC 7505: a single
/// record whose exchange is `.`) means the domain accepts no mail: a permanent failure.
pub fn hosts_from_mx(
    domain: &str,
    mut records: Vec<MxRecord>,
) -> std::result::Result<Vec<NextHop>, Failure> {
    let is_null = |r: &MxRecord| r.exchange.trim_end_matches('.').is_empty();
    if records.iter().any(is_null) {
        return Err(Failure::permanent(
            (5, 1, 10),
            format!("{domain} publishes a null MX: it accepts no mail"),
        ));
    }
    if records.is_empty() {
        return Ok(vec![NextHop {
            host: domain.to_string(),
            port: SMTP_PORT,
        }]);
    }
    records.sort_by_key(|r| r.preference);
    let mut hops: Vec<NextHop> = Vec::with_capacity(records.len());
    for record in records {
        let host = record.exchange.trim_end_matches('.').to_ascii_lowercase();
        let hop = NextHop {
            host,
            port: SMTP_PORT,
        };
        if !hops.contains(&hop) {
            hops.push(hop);
        }
    }
    Ok(hops)
}

/// Finds next hops. The DNS resolver is created on first need, so a configuration that
/// routes every domain statically never reads the system resolver configuration.
pub struct Router {
    /// Replaced whole by a configuration reload ([`Router::replace_routes`]).
    routes: std::sync::RwLock<BTreeMap<String, NextHop>>,
    resolver: OnceCell<std::result::Result<TokioResolver, String>>,
}

impl Router {
    /// `routes`: domain → `host:port`, as in `[relay] routes`. Domains are compared in
    /// lower case, A-label form.
    pub fn new(routes: &BTreeMap<String, String>) -> Result<Router> {
        let mut parsed = BTreeMap::new();
        for (domain, target) in routes {
            let domain = mssd_core::normalize_domain(domain).map_err(|e| Error::BadRoute {
                domain: domain.clone(),
                reason: e.to_string(),
            })?;
            let hop = NextHop::parse(target).map_err(|reason| Error::BadRoute {
                domain: domain.clone(),
                reason,
            })?;
            parsed.insert(domain, hop);
        }
        Ok(Router {
            routes: std::sync::RwLock::new(parsed),
            resolver: OnceCell::new(),
        })
    }

    fn routes(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, NextHop>> {
        self.routes
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn static_route(&self, domain: &str) -> Option<NextHop> {
        self.routes().get(domain).cloned()
    }

    /// Takes the routes of `other` (built, hence checked, from the new configuration).
    pub fn replace_routes(&self, other: Router) {
        let routes = other
            .routes
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *self
            .routes
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = routes;
    }

    /// The hosts to try for `domain`, best first. DNS trouble is temporary; a domain that
    /// does not exist (NXDOMAIN) or a null MX is permanent.
    pub async fn next_hops(&self, domain: &str) -> std::result::Result<Vec<NextHop>, Failure> {
        if let Some(hop) = self.static_route(domain) {
            return Ok(vec![hop]);
        }
        let resolver = self
            .resolver
            .get_or_init(|| async {
                TokioResolver::builder_tokio()
                    .and_then(|b| b.build())
                    .map_err(|e| e.to_string())
            })
            .await
            .as_ref()
            .map_err(|e| Failure::temporary((4, 4, 3), format!("no DNS resolver: {e}")))?;
        match resolver.mx_lookup(format!("{domain}.")).await {
            Ok(lookup) => {
                let records = lookup
                    .answers()
                    .iter()
                    .filter_map(|record| match &record.data {
                        RData::MX(mx) => Some(MxRecord {
                            preference: mx.preference,
                            exchange: mx.exchange.to_ascii(),
                        }),
                        _ => None,
                    })
                    .collect();
                hosts_from_mx(domain, records)
            }
            Err(e) if e.is_nx_domain() => Err(Failure::permanent(
                (5, 1, 2),
                format!("the domain {domain} does not exist (NXDOMAIN)"),
            )),
            Err(e) if e.is_no_records_found() => hosts_from_mx(domain, Vec::new()),
            Err(e) => Err(Failure::temporary(
                (4, 4, 3),
                format!("MX lookup for {domain} failed: {e}"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hop(host: &str, port: u16) -> NextHop {
        NextHop {
            host: host.into(),
            port,
        }
    }

    #[test]
    fn parse_hops() {
        let cases: &[(&str, std::result::Result<NextHop, &str>)] = &[
            ("127.0.0.1:2526", Ok(hop("127.0.0.1", 2526))),
            ("MX.Clinique-B.fr", Ok(hop("mx.clinique-b.fr", 25))),
            ("mx.b.fr:587", Ok(hop("mx.b.fr", 587))),
            ("[::1]:2526", Ok(hop("::1", 2526))),
            ("[::1]", Ok(hop("::1", 25))),
            (
                "::1:25",
                Err("an IPv6 address must be written in brackets, [addr]:port"),
            ),
            ("[::1", Err("an opening [ without its closing ]")),
            ("[::1]25", Err("expected :port after ]")),
            ("mx.b.fr:0", Err("\"0\" is not a port number (1-65535)")),
            (
                "mx.b.fr:70000",
                Err("\"70000\" is not a port number (1-65535)"),
            ),
            ("mx.b.fr:", Err("\"\" is not a port number (1-65535)")),
            (":25", Err("the host is empty")),
            ("", Err("the host is empty")),
            (
                "mx b.fr:25",
                Err("\"mx b.fr\" is not a host name or address"),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(
                NextHop::parse(text),
                expected.clone().map_err(String::from),
                "{text:?}"
            );
        }
        assert_eq!(hop("::1", 25).to_string(), "[::1]:25");
        assert_eq!(hop("mx.b.fr", 25).to_string(), "mx.b.fr:25");
    }

    #[test]
    fn mx_ordering() {
        let mx = |preference, exchange: &str| MxRecord {
            preference,
            exchange: exchange.into(),
        };
        type Expected = std::result::Result<Vec<NextHop>, (u8, u16, u16)>;
        let cases: Vec<(Vec<MxRecord>, Expected)> = vec![
            (vec![], Ok(vec![hop("b.fr", 25)])),
            (
                vec![
                    mx(20, "mx2.b.fr."),
                    mx(10, "MX1.b.fr."),
                    mx(20, "mx3.b.fr"),
                    mx(30, "mx1.b.fr."),
                ],
                Ok(vec![
                    hop("mx1.b.fr", 25),
                    hop("mx2.b.fr", 25),
                    hop("mx3.b.fr", 25),
                ]),
            ),
            (vec![mx(0, ".")], Err((5, 1, 10))),
            (vec![mx(0, "")], Err((5, 1, 10))),
        ];
        for (records, expected) in cases {
            let got = hosts_from_mx("b.fr", records.clone()).map_err(|f| {
                assert!(f.permanent);
                f.status
            });
            assert_eq!(got, expected, "{records:?}");
        }
    }

    #[tokio::test]
    async fn static_routes_come_first_and_are_validated() {
        let routes: BTreeMap<String, String> =
            [("Clinique-B.fr".to_string(), "127.0.0.1:2526".to_string())].into();
        let router = Router::new(&routes).unwrap();
        assert_eq!(
            router.next_hops("clinique-b.fr").await,
            Ok(vec![hop("127.0.0.1", 2526)])
        );
        let bad: BTreeMap<String, String> = [("b.fr".to_string(), "host:port".to_string())].into();
        let err = Router::new(&bad).err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("[relay] route for b.fr: \"port\" is not a port number (1-65535)")
        );
    }
}
