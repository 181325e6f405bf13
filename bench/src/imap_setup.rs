//! The IMAP benchmark's world: a configuration with the IMAP listeners, one ORG mailbox shared
//! read,write with N professionals (PER mailboxes with passwords), created with the real CLI.

use std::net::SocketAddr;
use std::sync::Arc;

use mssd_e2e::{ImapClient, Reply};

use crate::error::{Error, Result, io};
use crate::operator::BenchOperator;

pub const PASSWORD: &str = "bench imap password 2026";

/// Where and how IMAP clients connect: implicit TLS on the imaps listener.
#[derive(Clone)]
pub struct ImapEndpoint {
    pub addr: SocketAddr,
    pub tls: Arc<rustls::ClientConfig>,
    pub server_name: String,
}

/// The mailboxes of the benchmark.
#[derive(Debug, Clone)]
pub struct BenchWorld {
    pub org: String,
    pub professionals: Vec<String>,
}

impl BenchWorld {
    /// The shared folder of the ORG mailbox as its grantees see it.
    pub fn shared_folder(&self) -> String {
        format!("Shared/{}", self.org)
    }
}

impl ImapEndpoint {
    /// Connects with implicit TLS and logs in as `user` with [`PASSWORD`].
    pub async fn login(&self, user: &str) -> Result<ImapClient> {
        let (mut client, greeting) =
            ImapClient::connect_tls(self.addr, self.tls.clone(), &self.server_name)
                .await
                .map_err(io(format!("connecting to imaps {}", self.addr)))?;
        if !greeting.starts_with("* OK") {
            return Err(Error::UnexpectedReply {
                step: "IMAP greeting",
                expected: "* OK",
                reply: greeting,
            });
        }
        let reply = client
            .login(user, PASSWORD)
            .await
            .map_err(io(format!("LOGIN {user}")))?;
        expect_ok("LOGIN", &reply)?;
        Ok(client)
    }
}

/// An error unless `reply` is a tagged OK.
pub fn expect_ok(step: &'static str, reply: &Reply) -> Result<()> {
    if reply.is_ok() {
        return Ok(());
    }
    // The tagged line says why; untagged data may be megabytes of FETCH.
    Err(Error::UnexpectedReply {
        step,
        expected: "OK",
        reply: reply.tag_line.clone(),
    })
}

/// Writes a configuration with IMAP (STARTTLS and implicit TLS), SMTP and HTTP on ephemeral
/// loopback ports and connection limits high enough for `connections` clients from 127.0.0.1.
pub fn configure_imap(op: &BenchOperator, connections: usize) -> Result<()> {
    let domain = &op.domain;
    let limit = connections + 256;
    let config = format!(
        r#"[server]
hostname = "mail.{domain}"
domains = ["{domain}"]
data_dir = "data"

[tls]
crls = ["pki/crl.pem"]

[listeners]
smtp = "127.0.0.1:0"
imap = "127.0.0.1:0"
imaps = "127.0.0.1:0"
http = "127.0.0.1:0"

[limits]
max_connections = {limit}
max_connections_per_ip = {limit}
"#
    );
    let path = op.config_path();
    std::fs::write(&path, config).map_err(io(format!("writing {}", path.display())))
}

/// A valid idNat_PS ("8" + an 11-digit RPPS with its Luhn key) distinct for each `n`.
pub fn owner_id_nat(n: usize) -> Option<String> {
    let base = format!("81000200{:03}", n % 1000);
    (0..10)
        .map(|key| format!("{base}{key}"))
        .find(|candidate| mssd_core::IdNatPs::parse(candidate).is_ok())
}

/// Creates the ORG mailbox and `count` PER mailboxes with [`PASSWORD`], and grants the ORG
/// mailbox read,write to each.
pub fn create_world(op: &BenchOperator, count: usize) -> Result<BenchWorld> {
    let domain = &op.domain;
    let org = format!("secretariat@{domain}");
    op.run(
        &["mailbox", "add", &org, "--kind", "ORG", "--password-stdin"],
        Some(&format!("{PASSWORD}\n")),
    )?;
    let mut professionals = Vec::with_capacity(count);
    for n in 0..count {
        let address = add_professional(op, "medecin", n)?;
        op.run(
            &[
                "mailbox",
                "grant",
                &org,
                "--to",
                &address,
                "--rights",
                "read,write",
            ],
            None,
        )?;
        professionals.push(address);
    }
    Ok(BenchWorld { org, professionals })
}

/// Creates the PER mailbox `<prefix><n>@domain` (owner number `n` + 500 when the prefix is not
/// "medecin", so owners stay distinct) with [`PASSWORD`]; returns its address.
pub fn add_professional(op: &BenchOperator, prefix: &str, n: usize) -> Result<String> {
    let address = format!("{prefix}{n:02}@{}", op.domain);
    let owner_number = if prefix == "medecin" { n } else { n + 500 };
    let owner = owner_id_nat(owner_number).ok_or_else(|| Error::UnexpectedReply {
        step: "choosing an idNat_PS",
        expected: "a valid RPPS",
        reply: format!("none for n={owner_number}"),
    })?;
    op.run(
        &[
            "mailbox",
            "add",
            &address,
            "--kind",
            "PER",
            "--owner",
            &owner,
            "--password-stdin",
        ],
        Some(&format!("{PASSWORD}\n")),
    )?;
    Ok(address)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_are_valid_and_distinct() {
        let owners: Vec<String> = (0..40).map(|n| owner_id_nat(n).unwrap()).collect();
        for owner in &owners {
            assert!(mssd_core::IdNatPs::parse(owner).is_ok(), "{owner}");
            assert_eq!(owner.len(), 12, "{owner}");
        }
        let mut unique = owners.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), owners.len());
    }
}
