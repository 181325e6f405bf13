//! End-to-end: the real `mssd` with `[annuaire.ldap]` against a real OpenLDAP slapd — the
//! server syncs the directory at start, provisions the mailboxes of its people, and checks
//! submission passwords with an LDAP bind (over LDAPS validated with our anchors).

#[path = "../../annuaire-sync/tests/ldap_support/mod.rs"]
mod ldap_support;

use std::time::{Duration, Instant};

use ldap_support::{SERVICE_DN, SERVICE_PASSWORD, SUFFIX, Slapd};
use mssd_e2e::peers::plain;
use mssd_e2e::{Operator, SmtpClient, tls_client_config};

const BIN: &str = env!("CARGO_BIN_EXE_mssd");
const DOMAIN: &str = "hopital.test";
const JEAN: &str = "jean.dupont@hopital.test";

fn wait_for_mailbox(op: &Operator, address: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = op.cli(&["mailbox", "list", "--json"], None);
        let rows: serde_json::Value = serde_json::from_str(&out.stdout).unwrap_or_default();
        if let Some(row) = rows
            .as_array()
            .and_then(|r| r.iter().find(|m| m["address"] == address))
        {
            return row.clone();
        }
        assert!(
            Instant::now() < deadline,
            "{address} was not provisioned: {}",
            out.stdout
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn ldap_people_are_provisioned_and_log_in_to_submission_with_their_ldap_password() {
    let slapd = Slapd::start();
    let op = Operator::new(BIN, DOMAIN);
    op.configure(
        "",
        &format!(
            "[annuaire.ldap]\nurl = \"{}\"\nbind_dn = \"{SERVICE_DN}\"\nbind_password = \"{SERVICE_PASSWORD}\"\nbase_dn = \"ou=people,{SUFFIX}\"\nanchors = [\"{}\"]\nprovision = true\npassword_auth = true\n\n[annuaire.ldap.groups]\nbase_dn = \"ou=groups,{SUFFIX}\"\n",
            slapd.ldaps_url(),
            slapd.root_pem.display()
        ),
    );
    let server = op.start();
    let jean = wait_for_mailbox(&op, JEAN);
    assert_eq!(jean["kind"], "PER");
    assert_eq!(jean["owner"], "810001045367");

    let login = |password: &str| {
        let (client, greeting) = SmtpClient::connect(server.addr("submission"));
        assert!(greeting.starts_with("220"));
        let (mut client, _) = client
            .starttls(
                &format!("mail.{DOMAIN}"),
                tls_client_config(&op.pki("root.pem"), None),
            )
            .unwrap();
        client.command(&format!("AUTH PLAIN {}", plain(JEAN, password)))
    };
    // The LDAP password works (mssd stores none for provisioned mailboxes); a wrong one fails.
    assert!(login("jean-password").starts_with("235 2.7.0"));
    assert!(login("not-jean-password").starts_with("535 5.7.8"));

    // The LDAP server goes down: the provisioned mailbox stays, logins fail temporarily.
    drop(slapd);
    let reply = login("jean-password");
    assert!(
        reply.starts_with("454 4.7.0") || reply.starts_with("535"),
        "{reply}"
    );
    let _ = wait_for_mailbox(&op, JEAN);
}
