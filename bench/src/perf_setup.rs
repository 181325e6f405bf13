//! The world of `perf-bench`: operator A with its MTA listener (peer certificate + liste
//! blanche, as `smtp-bench`), submission (password logins for PER and ORG), IMAPS and HTTP on
//! ephemeral loopback ports; one ORG mailbox receiving MTA mail and one PER mailbox with a
//! password per client, created with the real CLI.

use std::net::{IpAddr, Ipv4Addr};

use crate::error::{Error, Result, io};
use crate::imap_setup::add_professional;
use crate::operator::BenchOperator;
use crate::peer::{PeerFiles, PeerPki, whitelist_xml};

/// Our domain.
pub const A: &str = "hopital-a.test.mssante.fr";
/// The peer operator's domain, on the liste blanche.
pub const B: &str = "clinique-b.test.mssante.fr";
/// The peer MTA's certificate name.
pub const PEER_CN: &str = "mail.clinique-b.test.mssante.fr";
/// Client `n` connects from 127.0.0.(FIRST_SOURCE + n).
const FIRST_SOURCE: usize = 10;
/// Most clients with a loopback address of their own.
pub const MAX_CLIENTS: usize = 255 - FIRST_SOURCE;

/// The operator, the peer's files, and the mailboxes.
pub struct PerfWorld {
    pub operator: BenchOperator,
    pub peer: PeerFiles,
    /// The ORG mailbox the peer MTA writes to.
    pub recipient: String,
    /// One PER mailbox (password [`crate::imap_setup::PASSWORD`]) per client.
    pub users: Vec<String>,
}

impl PerfWorld {
    /// Creates the operator (PKI, peer PKI, liste blanche, configuration) and the mailboxes.
    pub fn create(bin: &std::path::Path, clients: usize) -> Result<PerfWorld> {
        PerfWorld::create_with(bin, clients, "")
    }

    /// As [`PerfWorld::create`], with `extra` appended to the configuration before any
    /// mailbox is created (a `[store]` section, for instance).
    pub fn create_with(bin: &std::path::Path, clients: usize, extra: &str) -> Result<PerfWorld> {
        if clients == 0 || clients > MAX_CLIENTS {
            return Err(Error::Metrics(format!(
                "--connections must be between 1 and {MAX_CLIENTS} (one loopback address each)"
            )));
        }
        let operator = BenchOperator::new(bin, A)?;
        let peer = PeerPki::new()?.write_mta(operator.dir.path(), PEER_CN)?;
        let whitelist = whitelist_xml(
            &[(A, &operator.server_dn()?), (B, &peer.dn)],
            "2026-11-01T00:00:00Z",
        );
        let list_path = operator.data_dir().join("liste-blanche.xml");
        std::fs::write(&list_path, whitelist)
            .map_err(io(format!("writing {}", list_path.display())))?;
        configure(&operator, &peer, extra)?;
        let recipient = format!("bench@{A}");
        operator.run(&["mailbox", "add", &recipient, "--kind", "ORG"], None)?;
        let users = (0..clients)
            .map(|n| add_professional(&operator, "medecin", n))
            .collect::<Result<Vec<_>>>()?;
        Ok(PerfWorld {
            operator,
            peer,
            recipient,
            users,
        })
    }
}

impl PerfWorld {
    /// `count` more ORG mailboxes (`bench-<n>@A`) for traffic spread over mailboxes.
    pub fn add_recipients(&self, count: usize) -> Result<Vec<String>> {
        (0..count)
            .map(|n| {
                let address = format!("bench-{n}@{A}");
                self.operator
                    .run(&["mailbox", "add", &address, "--kind", "ORG"], None)?;
                Ok(address)
            })
            .collect()
    }
}

/// The local address of client `n`: every client is its own source for the server's
/// per-IP connection limits and authentication throttle.
pub fn source(n: usize) -> IpAddr {
    let last = u8::try_from(FIRST_SOURCE + n % MAX_CLIENTS).unwrap_or(u8::MAX);
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, last))
}

/// Writes the configuration: MTA (trusting the peer's root and CRL), submission, IMAPS and
/// HTTP on ephemeral loopback ports, password logins for PER and ORG, high connection limits;
/// then `extra`.
fn configure(op: &BenchOperator, peer: &PeerFiles, extra: &str) -> Result<()> {
    let domain = &op.domain;
    let config = format!(
        r#"[server]
hostname = "mail.{domain}"
domains = ["{domain}"]
data_dir = "data"

[tls]
trust_anchors = ["pki/root.pem", "{peer_root}"]
crls = ["pki/crl.pem", "{peer_crl}"]

[listeners]
smtp = "127.0.0.1:0"
submission = "127.0.0.1:0"
imaps = "127.0.0.1:0"
http = "127.0.0.1:0"

[trust_list]
source = "liste-blanche.xml"

[auth]
password_kinds = ["PER", "ORG"]

[limits]
max_connections = 4096
max_connections_per_ip = 4096
"#,
        peer_root = peer.root.display(),
        peer_crl = peer.crl.display(),
    ) + extra;
    let path = op.config_path();
    std::fs::write(&path, config).map_err(io(format!("writing {}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_table() {
        let cases = [
            (0, "127.0.0.10"),
            (1, "127.0.0.11"),
            (19, "127.0.0.29"),
            (MAX_CLIENTS - 1, "127.0.0.254"),
            (MAX_CLIENTS, "127.0.0.10"),
        ];
        for (n, expected) in cases {
            assert_eq!(source(n).to_string(), expected, "{n}");
        }
    }
}
