//! Two real operators for outbound tests: A sends through a `QueueRunner`, B receives with
//! the inbound `Session` (Role::Mta) on 127.0.0.1. One test PKI (root, ORGANISATIONS
//! intermediate, one server certificate per operator), a SQLite store and a liste blanche
//! (parsed from XML) per operator.
#![allow(dead_code)]

pub mod dsn_check;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mssd_certs::{ChainValidator, ClientAuth, LeafSpec, TestCa, TrustConfig};
use mssd_core::{Address, MailboxKind};
use mssd_smtp::outbound::{OutboundConfig, QueueRunner};
use mssd_smtp::{Conn, Role, Session, SmtpConfig, SmtpContext, SmtpCounters};
use mssd_store::{
    NewMailbox, NewQueued, QueueId, QueuedRecipient, RecipientStatus, SqliteOptions, SqliteStore,
    Store,
};
use mssd_trust_list::{
    FetchOptions, Fetcher, Location, RefreshPolicy, TrustListHandle, TrustListSource,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio::sync::watch;

pub const DOMAIN_A: &str = "hopital-a.test.mssante.fr";
pub const DOMAIN_B: &str = "clinique-b.test.mssante.fr";
pub const SENDER: &str = "dr.martin@hopital-a.test.mssante.fr";
pub const RECIPIENT: &str = "secretariat@clinique-b.test.mssante.fr";
pub const RECIPIENT_2: &str = "dr.durand@clinique-b.test.mssante.fr";

pub struct Pki {
    intermediate: TestCa,
    pub validator: Arc<ChainValidator>,
}

/// A server certificate (serverAuth and clientAuth, like IGC-Santé's) and its DN.
pub struct Identity {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
    pub dn: String,
}

impl Pki {
    pub fn new() -> Pki {
        let root = TestCa::root("TEST AC RACINE IGC-SANTE ELEMENTAIRE").unwrap();
        let intermediate = root
            .intermediate("TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS")
            .unwrap();
        let trust = TrustConfig {
            anchors: vec![root.cert_der().clone()],
            ..Default::default()
        };
        Pki {
            intermediate,
            validator: Arc::new(ChainValidator::new(trust).unwrap()),
        }
    }

    pub fn server_identity(&self, host: &str, organisation: &str) -> Identity {
        let spec = LeafSpec {
            dns_names: vec![host.to_string()],
            server_auth: true,
            client_auth: true,
            ..LeafSpec::new(&[
                ("CN", host),
                ("OU", "1990000002"),
                ("O", organisation),
                ("ST", "Paris (75)"),
                ("C", "FR"),
            ])
        };
        let issued = self.intermediate.issue(&spec).unwrap();
        let dn = mssd_certs::DistinguishedName::from_certificate(&issued.cert_der)
            .unwrap()
            .to_string();
        Identity {
            chain: vec![
                issued.cert_der.clone(),
                self.intermediate.cert_der().clone(),
            ],
            key: issued.private_key(),
            dn,
        }
    }
}

/// A liste blanche document listing `entries` (domain, DN).
pub fn list_xml(entries: &[(&str, &str)]) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListeBlancheMSSante xmlns=\"https://listeblanche.mssante.fr/schema\">\n\
         <DateDeGeneration>2025-03-13T14:54:10Z</DateDeGeneration>\n<ListeDomaines>\n",
    );
    for (domain, dn) in entries {
        xml.push_str(&format!(
            "<Domaine><Nom>{domain}</Nom><Description>Test</Description>\
             <DNCertificatOperateur>{dn}</DNCertificatOperateur><ResponsableContact>dpo@{domain}</ResponsableContact>\
             <SupportContact>support@{domain}</SupportContact><DateMAJ>2025-01-27T15:49:34Z</DateMAJ></Domaine>\n"
        ));
    }
    xml.push_str("</ListeDomaines>\n</ListeBlancheMSSante>\n");
    xml
}

async fn trust_handle(dir: &Path, entries: &[(&str, &str)]) -> TrustListHandle {
    let path = dir.join("liste-blanche.xml");
    std::fs::write(&path, list_xml(entries)).unwrap();
    let source = TrustListSource::new(
        Location::parse(path.to_str().unwrap()).unwrap(),
        None,
        Fetcher::files_only(FetchOptions::default()),
    );
    let handle = TrustListHandle::new(RefreshPolicy::default());
    handle.load_forced(&source).await.unwrap();
    handle
}

/// One operator: its store, context and certificate.
pub struct Operator {
    pub domain: String,
    pub ctx: Arc<SmtpContext>,
    pub identity: Identity,
    pub validator: Arc<ChainValidator>,
    _dir: tempfile::TempDir,
}

impl Operator {
    /// `trusted`: the (domain, DN) pairs of this operator's liste blanche.
    pub async fn new(
        pki: &Pki,
        domain: &str,
        identity: Identity,
        trusted: &[(&str, &str)],
        mailboxes: &[&str],
    ) -> Operator {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(
            SqliteStore::open(&dir.path().join("mssd.db"), SqliteOptions::default()).unwrap(),
        );
        for address in mailboxes {
            store
                .create_mailbox(NewMailbox {
                    address: Address::parse(address).unwrap(),
                    kind: MailboxKind::Per,
                    display_name: None,
                    owner_id_nat: None,
                    password_hash: None,
                    certificate_dn: None,
                    quota_bytes: None,
                })
                .await
                .unwrap();
        }
        let trust = trust_handle(dir.path(), trusted).await;
        let server = mssd_certs::server_config(
            identity.chain.clone(),
            identity.key.clone_key(),
            pki.validator.clone(),
            ClientAuth::Deferred,
        )
        .unwrap();
        let ctx = SmtpContext {
            config: SmtpConfig::new(format!("mail.{domain}"), vec![domain.to_string()], None),
            auth: Arc::new(mssd_auth::Authenticator::new(
                store.clone(),
                mssd_auth::AuthConfig::default(),
            )),
            store,
            trust,
            tls: tokio_rustls::TlsAcceptor::from(server),
            validator: pki.validator.clone(),
            counters: SmtpCounters::default(),
            queue_notify: Arc::new(tokio::sync::Notify::new()),
        };
        Operator {
            domain: domain.to_string(),
            ctx: Arc::new(ctx),
            identity,
            validator: pki.validator.clone(),
            _dir: dir,
        }
    }

    pub fn client_config(&self) -> Arc<rustls::ClientConfig> {
        mssd_certs::client_config(
            Some((self.identity.chain.clone(), self.identity.key.clone_key())),
            self.validator.clone(),
        )
        .unwrap()
    }

    /// A runner delivering `DOMAIN_B` to 127.0.0.1:`port`, with short timeouts.
    pub fn runner(&self, port: u16, tweak: impl FnOnce(&mut OutboundConfig)) -> QueueRunner {
        let mut config = OutboundConfig::new(self.client_config());
        config.routes = BTreeMap::from([(DOMAIN_B.to_string(), format!("127.0.0.1:{port}"))]);
        config.timeouts.connect = Duration::from_secs(5);
        config.timeouts.greeting = Duration::from_secs(10);
        config.timeouts.command = Duration::from_secs(10);
        tweak(&mut config);
        QueueRunner::new(self.ctx.clone(), config).unwrap()
    }

    /// Queues `message` as the submission session would (same envelope JSON).
    pub async fn enqueue(
        &self,
        sender: Option<&str>,
        recipients: &[&str],
        message: &[u8],
        dsn: DsnParams,
    ) -> QueueId {
        let notify: BTreeMap<String, u64> = recipients
            .iter()
            .map(|r| (r.to_string(), dsn.notify))
            .collect();
        let orcpt: BTreeMap<String, String> = dsn
            .orcpt
            .iter()
            .map(|(a, o)| (a.to_string(), o.to_string()))
            .collect();
        let envelope = serde_json::json!({
            "id": self.ctx.counters.next_id(),
            "env_id": dsn.env_id,
            "ret_full": dsn.ret_full,
            "smtputf8": false,
            "notify": notify,
            "orcpt": orcpt,
        });
        self.ctx
            .store
            .enqueue(NewQueued {
                sender: sender.map(|s| Address::parse(s).unwrap()),
                recipients: recipients
                    .iter()
                    .map(|r| QueuedRecipient {
                        address: Address::parse(r).unwrap(),
                        status: RecipientStatus::Pending,
                        detail: None,
                    })
                    .collect(),
                message: message.to_vec().into(),
                next_attempt: now(),
                envelope,
            })
            .await
            .unwrap()
    }

    /// The messages in `address`'s INBOX, oldest first.
    pub async fn inbox(&self, address: &str) -> Vec<Vec<u8>> {
        let store = &self.ctx.store;
        let mailbox = store
            .mailbox(&Address::parse(address).unwrap())
            .await
            .unwrap()
            .unwrap();
        let folders = store.folders(mailbox.id).await.unwrap();
        let inbox = folders.iter().find(|f| f.name == "INBOX").unwrap();
        let mut out = Vec::new();
        for meta in store.messages(inbox.id).await.unwrap() {
            out.push(
                store
                    .message_body(inbox.id, meta.uid)
                    .await
                    .unwrap()
                    .unwrap(),
            );
        }
        out
    }

    pub async fn audit_kinds(&self, kind: &str) -> Vec<mssd_store::AuditEvent> {
        let records = self.ctx.store.audit_log(0, 10_000).await.unwrap();
        records
            .into_iter()
            .map(|r| r.event)
            .filter(|e| e.kind == kind)
            .collect()
    }
}

/// RFC 3461 parameters of a queued message.
#[derive(Default, Clone)]
pub struct DsnParams {
    pub notify: u64,
    pub ret_full: bool,
    pub env_id: Option<String>,
    pub orcpt: Vec<(String, String)>,
}

/// Operator A (sender, mailbox SENDER) and B (RECIPIENT, RECIPIENT_2), each listing both.
pub async fn two_operators() -> (Operator, Operator) {
    let pki = Pki::new();
    let id_a = pki.server_identity(&format!("mail.{DOMAIN_A}"), "HOPITAL A");
    let id_b = pki.server_identity(&format!("mail.{DOMAIN_B}"), "CLINIQUE B");
    let listed = [(DOMAIN_A, id_a.dn.clone()), (DOMAIN_B, id_b.dn.clone())];
    let listed: Vec<(&str, &str)> = listed.iter().map(|(d, dn)| (*d, dn.as_str())).collect();
    let a = Operator::new(&pki, DOMAIN_A, id_a, &listed, &[SENDER]).await;
    let b = Operator::new(&pki, DOMAIN_B, id_b, &listed, &[RECIPIENT, RECIPIENT_2]).await;
    (a, b)
}

/// The receiving side: B's inbound MTA sessions on 127.0.0.1:`port` (0: any free port).
pub struct Peer {
    pub port: u16,
    /// TCP connections accepted so far.
    pub connections: Arc<AtomicUsize>,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Peer {
    pub async fn start(ctx: Arc<SmtpContext>, port: u16) -> Peer {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let (shutdown, rx) = watch::channel(false);
        let counted = connections.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, peer)) = listener.accept().await else {
                    return;
                };
                counted.fetch_add(1, Ordering::SeqCst);
                let ctx = ctx.clone();
                let rx = rx.clone();
                tokio::spawn(async move {
                    Session::new(&ctx, Role::Mta, Conn::Plain(tcp), peer)
                        .run(rx)
                        .await
                });
            }
        });
        Peer {
            port,
            connections,
            shutdown,
            task,
        }
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    pub fn stop(self) {
        let _ = self.shutdown.send(true);
        self.task.abort();
    }
}

/// A port nothing listens on (bound then released).
pub async fn free_port() -> u16 {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    listener.local_addr().unwrap().port()
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The message after its first header field (the Received field the receiver added).
pub fn after_first_field(message: &[u8]) -> &[u8] {
    let mut i = 0;
    while let Some(pos) = message[i..].windows(2).position(|w| w == b"\r\n") {
        let end = i + pos + 2;
        if !matches!(message.get(end), Some(b' ') | Some(b'\t')) {
            return &message[end..];
        }
        i = end;
    }
    &[]
}

pub fn sample_message(subject: &str) -> Vec<u8> {
    format!(
        "Received: from client (127.0.0.1) by mail.{DOMAIN_A}; Mon, 23 Nov 2026 03:12:05 +0000\r\n\
         From: Dr Martin <{SENDER}>\r\nTo: <{RECIPIENT}>\r\nSubject: {subject}\r\n\
         Message-ID: <{subject}@mail.{DOMAIN_A}>\r\nDate: Mon, 23 Nov 2026 03:12:05 +0000\r\n\
         X-MSS-NIL: test\r\n\r\nCompte rendu.\r\n.Une ligne avec un point\r\n..deux points\r\n.\r\nFin é\r\n"
    )
    .into_bytes()
}
