//! End-to-end: public HTTPS sources through the real binary. The issuer's JWKS is served over
//! HTTPS with a certificate of a public-style CA (a separate test hierarchy, not the IGC-Santé
//! test PKI) named in `[http_client] anchors`: tokens of the first key log in; after the
//! issuer rotates to a second key, a token naming it is accepted at once (refresh on an
//! unknown kid); with the issuer down, the last good keys are served, also after a restart
//! (kept in the store), and `mssd doctor` says the last fetch failed. An SMTP peer presenting
//! a client certificate of that same public CA is still refused: public roots never admit
//! MSSanté peers.

use std::path::{Path, PathBuf};
use std::time::Duration;

use mssd_certs::{LeafSpec, TestCa};
use mssd_e2e::https::HttpsServer;
use mssd_e2e::peers::{TokenIssuer, whitelist_xml, xoauth2};
use mssd_e2e::{Mssd, Operator, SmtpClient, tls_client_config};

const BIN: &str = env!("CARGO_BIN_EXE_mssd");
const A: &str = "hopital-a.test.mssante.fr";
const B: &str = "clinique-b.test.mssante.fr";
const ISSUER: &str = "https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet";
const AUDIENCE: &str = "mssd-public-https-test";
const OWNER: &str = "810001045367";
const AUTH_OK: &str = "235 2.7.0 Authentication successful";
const PEER_CN: &str = "mail.clinique-b.test.mssante.fr";

/// A public-style hierarchy (like a commercial TLS CA): root and issuing CA held by the test.
struct PublicCa {
    root: TestCa,
    issuing: TestCa,
}

impl PublicCa {
    fn new() -> PublicCa {
        let root = TestCa::root_with_subject(&[
            ("CN", "TEST PUBLIC ROOT R1"),
            ("O", "Public Trust Test"),
            ("C", "US"),
        ])
        .unwrap();
        let issuing = root.intermediate("TEST PUBLIC TLS CA").unwrap();
        PublicCa { root, issuing }
    }

    /// Issues `spec` and writes the chain (leaf, issuing CA) and key; returns their paths.
    fn write(&self, dir: &Path, name: &str, spec: &LeafSpec) -> (PathBuf, PathBuf) {
        let cert = self.issuing.issue(spec).unwrap();
        let chain = dir.join(format!("{name}.pem"));
        let key = dir.join(format!("{name}.key"));
        std::fs::write(
            &chain,
            format!("{}{}", cert.cert_pem, self.issuing.cert_pem()),
        )
        .unwrap();
        std::fs::write(&key, &cert.key_pem).unwrap();
        (chain, key)
    }
}

fn signer(kid: &str) -> TokenIssuer {
    let mut signer = TokenIssuer::new(ISSUER);
    signer.kid = kid.to_string();
    signer
}

/// `AUTH XOAUTH2` on the submission port with a token of `signer`: the final reply (after a
/// refusal's 334 bearer error challenge, acknowledged as RFC 7628 asks).
fn login(server: &Mssd, a: &Operator, signer: &TokenIssuer) -> String {
    let (client, greeting) = SmtpClient::connect(server.addr("submission"));
    assert!(greeting.starts_with("220 "), "{greeting}");
    let (mut client, _) = client
        .starttls(
            &format!("mail.{A}"),
            tls_client_config(&a.pki("root.pem"), None),
        )
        .expect("STARTTLS on 587");
    let token = signer.sign(&signer.claims(OWNER, AUDIENCE, 300));
    let mut reply = client.command(&format!(
        "AUTH XOAUTH2 {}",
        xoauth2(&format!("dr.martin@{A}"), &token)
    ));
    if reply.starts_with("334 ") {
        reply = client.command("");
    }
    let _ = client.command("QUIT");
    reply
}

#[test]
fn jwks_over_public_https_rotates_is_served_stale_and_public_cas_never_admit_peers() {
    let files = tempfile::tempdir().unwrap();
    let public = PublicCa::new();
    let public_root = files.path().join("public-root.pem");
    std::fs::write(&public_root, public.root.cert_pem()).unwrap();
    let mut web = LeafSpec::new(&[("CN", "localhost"), ("O", "Issuer Test"), ("C", "FR")]);
    web.dns_names = vec!["localhost".into()];
    web.ip_addresses = vec!["127.0.0.1".parse().unwrap()];
    web.server_auth = true;
    let (web_chain, web_key) = public.write(files.path(), "jwks-server", &web);

    let (key1, key2) = (signer("key-1"), signer("key-2"));
    let jwks = HttpsServer::start(&web_chain, &web_key, key1.jwks_json().into_bytes());

    // The peer: an MTA certificate of the public CA, with the DN the liste blanche lists.
    let mut mta = LeafSpec::new(&[
        ("CN", PEER_CN),
        ("OU", "1990000002"),
        ("O", "CLINIQUE PEER"),
        ("ST", "Paris (75)"),
        ("C", "FR"),
    ]);
    mta.dns_names = vec![PEER_CN.into()];
    mta.server_auth = true;
    mta.client_auth = true;
    let (peer_chain, peer_key) = public.write(files.path(), "peer", &mta);
    let peer_dn = mssd_certs::CertInfo::parse(&mssd_certs::load_certs(&peer_chain).unwrap()[0])
        .unwrap()
        .subject
        .to_string();

    let a = Operator::new(BIN, A);
    let xml = whitelist_xml(
        &[(A, &a.server_dn()), (B, &peer_dn)],
        "2026-11-01T00:00:00Z",
    );
    std::fs::write(a.data_dir().join("liste-blanche.xml"), xml).unwrap();
    a.configure(
        "",
        &format!(
            r#"[trust_list]
source = "liste-blanche.xml"

[http_client]
anchors = ["{}"]

[auth.oidc]
issuer = "{ISSUER}"
jwks = "{}"
audience = "{AUDIENCE}"
"#,
            public_root.display(),
            jwks.url("/realms/esante-wallet/protocol/openid-connect/certs"),
        ),
    );
    a.cli_ok(
        &[
            "mailbox",
            "add",
            &format!("dr.martin@{A}"),
            "--kind",
            "PER",
            "--owner",
            OWNER,
        ],
        None,
    );
    let server = a.start();

    // Key 1, fetched at start over HTTPS checked with the public CA.
    assert_eq!(login(&server, &a, &key1), AUTH_OK);

    // The issuer rotates to key 2 only: a key-2 token makes the server fetch again at once.
    jwks.set_body(key2.jwks_json().into_bytes());
    assert_eq!(login(&server, &a, &key2), AUTH_OK);
    // Key 1 went with the rotation (and its unknown kid fetches nothing within 30 s).
    let refused = login(&server, &a, &key1);
    assert!(refused.starts_with("535 "), "{refused}");

    // The issuer is down: the last good set is served.
    jwks.stop();
    assert_eq!(login(&server, &a, &key2), AUTH_OK);

    // An SMTP peer with a client certificate of the public CA: refused and audited, although
    // its DN is listed for its domain.
    let (client, greeting) = SmtpClient::connect(server.addr("smtp"));
    assert!(greeting.starts_with("220 "), "{greeting}");
    let (mut client, _) = client
        .starttls(
            &format!("mail.{A}"),
            tls_client_config(&a.pki("root.pem"), Some((&peer_chain, &peer_key))),
        )
        .expect("STARTTLS on 25");
    let reply = client.command(&format!("MAIL FROM:<secretariat@{B}>"));
    assert!(
        reply.starts_with("550 5.7.1 Client certificate refused"),
        "{reply}"
    );
    let refusals: Vec<serde_json::Value> = mssd_e2e::store::audit(&a.data_dir())
        .into_iter()
        .filter(|(kind, outcome, _)| kind == "smtp.refused" && outcome == "refused")
        .map(|(_, _, detail)| detail)
        .collect();
    assert!(
        refusals.iter().any(|d| {
            d["reply"]
                .as_str()
                .is_some_and(|r| r.starts_with("550 5.7.1 Client certificate refused"))
                && d["claimed_dn"]
                    .as_str()
                    .is_some_and(|dn| dn.contains(PEER_CN))
                && d["peer_dn"].is_null()
        }),
        "{refusals:#?}"
    );
    let (status, _) = server.terminate(Duration::from_secs(20));
    assert!(status.success());

    // A restart with the issuer still down: the set kept in the store is in use, and the
    // failed fetch is recorded for doctor.
    let server = a.start();
    assert_eq!(login(&server, &a, &key2), AUTH_OK);
    let (status, _) = server.terminate(Duration::from_secs(20));
    assert!(status.success());
    let doctor = a.cli(&["doctor"], None);
    let line = doctor
        .stdout
        .lines()
        .find(|l| l.contains("auth.oidc:"))
        .unwrap_or_else(|| panic!("no auth.oidc line:\n{}", doctor.stdout))
        .to_string();
    assert!(
        line.contains("warn") && line.contains("1 key(s) from https://127.0.0.1:"),
        "{line}"
    );
    assert!(
        line.contains("FAILED") && line.contains("the kept keys are in use"),
        "{line}"
    );
}
