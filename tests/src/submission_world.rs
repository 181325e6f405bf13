//! A test operator set up for submission: an OIDC issuer the test holds, a liste blanche, a
//! mailbox of each authentication means, and the sessions and readings the tests share.

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use crate::peers::{TokenIssuer, plain, whitelist_xml};
use crate::{Mssd, Operator, SmtpClient, tls_client_config};

/// Our domain.
pub const A: &str = "hopital-a.test.mssante.fr";
/// Another operator's domain, on the liste blanche.
pub const B: &str = "clinique-b.test.mssante.fr";
/// A domain outside the trust space.
pub const OUTSIDE: &str = "gmail.example.com";
pub const ISSUER: &str = "https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet";
pub const AUDIENCE: &str = "mssd-submission-test";
/// The idNat_PS owning dr.martin's mailbox.
pub const OWNER: &str = "810001045367";
/// Password of dr.martin and of the suspended mailbox.
pub const PASSWORD: &str = "correct horse battery staple";
pub const ORG_PASSWORD: &str = "secretariat password 2026";

/// PER mailbox of OWNER, with PASSWORD.
pub fn martin() -> String {
    format!("dr.martin@{A}")
}
/// ORG mailbox with ORG_PASSWORD.
pub fn secretariat() -> String {
    format!("secretariat@{A}")
}
/// APP mailbox bound to the certificate `pki/app.pem`.
pub fn app() -> String {
    format!("lgc@{A}")
}
/// ORG mailbox with PASSWORD, suspended.
pub fn suspended() -> String {
    format!("ferme@{A}")
}

pub struct World {
    pub op: Operator,
    pub server: Mssd,
    pub issuer: TokenIssuer,
}

/// Operator A with an OIDC issuer (JWKS file), a liste blanche listing A and B, a relay route
/// for B to a closed port (queued mail stays queued), password logins for PER and ORG, and
/// the four mailboxes above; then started.
pub fn world(bin: &str) -> World {
    world_with(bin, "")
}

/// `world`, with `extra` appended to the configuration (e.g. an `[imap]` table).
pub fn world_with(bin: &str, extra: &str) -> World {
    world_with_tls(bin, "", extra)
}

/// `world_with`, with `tls_extra` as the `[tls]` lines (e.g. more trust anchors).
pub fn world_with_tls(bin: &str, tls_extra: &str, extra: &str) -> World {
    let op = Operator::new(bin, A);
    let issuer = TokenIssuer::new(ISSUER);
    std::fs::write(op.data_dir().join("jwks.json"), issuer.jwks_json()).unwrap();
    let b_dn = "CN=mail.clinique-b.test.mssante.fr,OU=1990000002,O=CLINIQUE B,ST=Paris (75),C=FR";
    let xml = whitelist_xml(&[(A, &op.server_dn()), (B, b_dn)], "2026-11-01T00:00:00Z");
    std::fs::write(op.data_dir().join("liste-blanche.xml"), xml).unwrap();
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    op.configure(
        tls_extra,
        &format!(
            r#"[trust_list]
source = "liste-blanche.xml"

[relay]
routes = {{ "{B}" = "127.0.0.1:{closed_port}" }}

[auth]
password_kinds = ["PER", "ORG"]

[auth.oidc]
issuer = "{ISSUER}"
jwks = "jwks.json"
audience = "{AUDIENCE}"

{extra}
"#
        ),
    );
    let app_pem = op.pki("app.pem");
    let mailboxes: Vec<(Vec<&str>, Option<String>)> = vec![
        (
            vec!["--kind", "PER", "--owner", OWNER, "--password-stdin"],
            Some(format!("{PASSWORD}\n")),
        ),
        (
            vec!["--kind", "ORG", "--password-stdin"],
            Some(format!("{ORG_PASSWORD}\n")),
        ),
        (
            vec!["--kind", "APP", "--certificate", app_pem.to_str().unwrap()],
            None,
        ),
        (
            vec!["--kind", "ORG", "--password-stdin"],
            Some(format!("{PASSWORD}\n")),
        ),
    ];
    let addresses = [martin(), secretariat(), app(), suspended()];
    for (address, (args, stdin)) in addresses.iter().zip(&mailboxes) {
        let mut all = vec!["mailbox", "add", address.as_str()];
        all.extend_from_slice(args);
        let out = op.cli(&all, stdin.as_deref());
        assert!(out.status.success(), "{all:?}: {}", out.stderr);
    }
    let out = op.cli(&["mailbox", "suspend", &suspended()], None);
    assert!(out.status.success(), "suspend: {}", out.stderr);
    let server = op.start();
    World { op, server, issuer }
}

impl World {
    /// A client config trusting our test root, optionally with a client certificate.
    pub fn tls_config(&self, client: Option<(&Path, &Path)>) -> Arc<rustls::ClientConfig> {
        tls_client_config(&self.op.pki("root.pem"), client)
    }

    /// Port 587: greeting, EHLO, STARTTLS, EHLO again; returns the client and the last EHLO.
    pub fn starttls_session(&self) -> (SmtpClient, String) {
        let (client, greeting) = SmtpClient::connect(self.server.addr("submission"));
        assert_eq!(greeting, format!("220 mail.{A} ESMTP mssd"));
        let (client, ehlo) = client
            .starttls(&format!("mail.{A}"), self.tls_config(None))
            .expect("STARTTLS on 587");
        assert!(ehlo.starts_with(&format!("250-mail.{A}")), "{ehlo}");
        (client, ehlo)
    }

    /// A session on 587 authenticated with AUTH PLAIN and an initial response.
    pub fn logged_in(&self, user: &str, password: &str) -> SmtpClient {
        let (mut client, _) = self.starttls_session();
        let reply = client.command(&format!("AUTH PLAIN {}", plain(user, password)));
        assert_eq!(reply, "235 2.7.0 Authentication successful");
        client
    }

    /// Audit details of the records of `kind`, oldest first.
    pub fn audit_details(&self, kind: &str) -> Vec<Value> {
        crate::store::audit(&self.op.data_dir())
            .into_iter()
            .filter(|(k, _, _)| k == kind)
            .map(|(_, _, detail)| detail)
            .collect()
    }

    /// The stored messages of `address`'s INBOX, as text.
    pub fn inbox(&self, address: &str) -> Vec<String> {
        crate::store::messages(&self.op.data_dir(), address, "INBOX")
            .into_iter()
            .map(|m| String::from_utf8_lossy(&m).into_owned())
            .collect()
    }

    /// `mssd_auth_failures_total` from the /metrics endpoint.
    pub fn auth_failures_metric(&self) -> f64 {
        let (status, metrics) = crate::http_get(self.server.addr("http"), "/metrics");
        assert_eq!(status, 200);
        metrics
            .lines()
            .find_map(|l| {
                l.strip_prefix("mssd_auth_failures_total ")?
                    .trim()
                    .parse()
                    .ok()
            })
            .unwrap_or_else(|| panic!("no mssd_auth_failures_total in:\n{metrics}"))
    }

    /// Adds an ORG mailbox with PASSWORD (and a storage quota such as "64K") to the running
    /// server.
    pub fn add_org_mailbox(&self, address: &str, quota: Option<&str>) {
        let mut args = vec![
            "mailbox",
            "add",
            address,
            "--kind",
            "ORG",
            "--password-stdin",
        ];
        if let Some(quota) = quota {
            args.extend(["--quota", quota]);
        }
        let out = self.op.cli(&args, Some(&format!("{PASSWORD}\n")));
        assert!(out.status.success(), "{args:?}: {}", out.stderr);
    }

    /// Runs [`IMAPLIB_PRELUDE`] + `script` against this server's IMAP port with `args` and
    /// reads the JSON it prints last.
    pub fn imaplib(&self, script: &str, args: &[&str]) -> Value {
        let root = self.op.pki("root.pem");
        let port = self.server.addr("imap").port().to_string();
        let mut all = vec![root.to_str().unwrap(), port.as_str()];
        all.extend_from_slice(args);
        let printed = crate::python::run_python(&format!("{IMAPLIB_PRELUDE}{script}"), &all);
        serde_json::from_str(printed.trim()).unwrap()
    }
}

/// What imaplib scripts start with: the TLS context for the test CA, the server's STARTTLS
/// port, and `connect`, which logs in. Their own arguments follow in `sys.argv[3:]`.
pub const IMAPLIB_PRELUDE: &str = r#"
import imaplib, json, ssl, sys, zlib
from datetime import datetime, timezone
root, port = sys.argv[1], int(sys.argv[2])
ctx = ssl.create_default_context(cafile=root)
ctx.check_hostname = False
def connect(login, password, cls=imaplib.IMAP4):
    m = cls("127.0.0.1", port, timeout=30)
    m.starttls(ssl_context=ctx)
    m.login(login, password)
    return m
"#;
