//! Helpers shared by the integration tests: a real SqliteStore in a temp dir, mailboxes,
//! contexts, SASL round trips and audit reads.
#![allow(dead_code)]

#[path = "../../src/token/test_signer.rs"]
pub mod test_signer;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use mssd_auth::{
    Argon2Verifier, AuthConfig, AuthContext, Authenticator, Credentials, Mechanism,
    PasswordVerifier, SaslExchange, Step,
};
use mssd_certs::CertInfo;
use mssd_core::{Address, MailboxKind};
use mssd_store::{AuditEvent, Mailbox, NewMailbox, SqliteOptions, SqliteStore, Store};

pub const PEER: &str = "192.0.2.10:50000";

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub store: Arc<SqliteStore>,
}

impl Fixture {
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store =
            SqliteStore::open(&dir.path().join("mssd.db"), SqliteOptions::default()).unwrap();
        Fixture {
            dir,
            store: Arc::new(store),
        }
    }

    pub fn authenticator(&self, config: AuthConfig) -> Authenticator {
        Authenticator::new(self.store.clone(), config)
    }

    pub async fn add(&self, spec: MailboxSpec<'_>) -> Mailbox {
        self.store
            .create_mailbox(NewMailbox {
                address: Address::parse(spec.address).unwrap(),
                kind: spec.kind,
                display_name: None,
                owner_id_nat: spec.owner.map(str::to_owned),
                password_hash: spec.password.map(|p| mssd_core::hash_password(p).unwrap()),
                certificate_dn: spec.certificate_dn,
                quota_bytes: None,
            })
            .await
            .unwrap()
    }

    /// Every audit event written so far, in order.
    pub async fn audit(&self) -> Vec<AuditEvent> {
        self.store
            .audit_log(0, 1000)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.event)
            .collect()
    }
}

pub struct MailboxSpec<'a> {
    pub address: &'a str,
    pub kind: MailboxKind,
    pub password: Option<&'a str>,
    pub owner: Option<&'a str>,
    pub certificate_dn: Option<String>,
}

impl<'a> MailboxSpec<'a> {
    pub fn new(address: &'a str, kind: MailboxKind) -> Self {
        MailboxSpec {
            address,
            kind,
            password: None,
            owner: None,
            certificate_dn: None,
        }
    }
}

pub fn ctx(peer: &str, tls: bool, certificate: Option<CertInfo>) -> AuthContext {
    AuthContext {
        protocol: "submission",
        peer: peer.parse::<SocketAddr>().unwrap(),
        tls,
        client_certificate: certificate,
    }
}

/// Runs the client side of a SASL exchange with an initial response and returns the
/// credentials the server-side state machine produced.
pub fn sasl(mechanism: Mechanism, message: &[u8]) -> Credentials {
    match SaslExchange::start(mechanism, Some(message)).1 {
        Step::Done(credentials) => credentials,
        other => panic!("{mechanism}: {other:?}"),
    }
}

pub fn plain(username: &str, password: &str) -> Credentials {
    sasl(
        Mechanism::Plain,
        format!("\0{username}\0{password}").as_bytes(),
    )
}

/// The real argon2 verifier, counting its calls and whether the account was known.
pub struct CountingVerifier {
    inner: Argon2Verifier,
    /// Say, like argon2, that only the stored hash matters (successes may be remembered).
    checks_stored_hash: bool,
    pub calls: AtomicUsize,
    pub unknown_account_calls: AtomicUsize,
}

impl CountingVerifier {
    pub fn new() -> Arc<CountingVerifier> {
        Self::with_cache(false)
    }

    /// A counting verifier whose successes the authenticator may remember.
    pub fn with_cache(checks_stored_hash: bool) -> Arc<CountingVerifier> {
        Arc::new(CountingVerifier {
            inner: Argon2Verifier::new(),
            checks_stored_hash,
            calls: AtomicUsize::new(0),
            unknown_account_calls: AtomicUsize::new(0),
        })
    }

    pub fn calls(&self) -> (usize, usize) {
        (
            self.calls.load(Ordering::SeqCst),
            self.unknown_account_calls.load(Ordering::SeqCst),
        )
    }
}

#[async_trait]
impl PasswordVerifier for CountingVerifier {
    fn checks_stored_hash(&self) -> bool {
        self.checks_stored_hash
    }

    async fn verify(&self, mailbox: Option<&Mailbox>, password: &str) -> mssd_auth::Result<bool> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if mailbox.is_none() {
            self.unknown_account_calls.fetch_add(1, Ordering::SeqCst);
        }
        self.inner.verify(mailbox, password).await
    }
}
