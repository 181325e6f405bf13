//! What only the PostgreSQL backend has: its migrations, the append-only audit trail under
//! the server's own role, durability settings, writers on several connections at once, staged
//! bodies, and TLS. The behaviour shared with SQLite is in the contract tests (mailboxes.rs,
//! messages.rs, ...), run on both backends.

mod common;

use std::sync::Arc;

use common::new_mailbox;
use common::postgres::{connect, fresh_database};
use mssd_store::{
    AuditEvent, Delivery, Error, MessageBytes, PostgresOptions, PostgresStore, Store,
    postgres_latest_schema_version,
};

fn options() -> PostgresOptions {
    let mut options = PostgresOptions::new(8);
    options.staging_dir = common::postgres::staging_dir();
    options
}

async fn store(url: &str) -> PostgresStore {
    PostgresStore::connect(url, options()).await.unwrap()
}

fn event(i: i64) -> AuditEvent {
    AuditEvent {
        at: 1_700_000_000_000 + i,
        kind: "mailbox.create".to_owned(),
        actor: "admin".to_owned(),
        subject: format!("box{i}@x.mssante.fr"),
        outcome: "ok".to_owned(),
        detail: serde_json::json!({ "n": i }),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn schema_is_versioned_and_a_newer_database_is_refused() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let first = store(&url).await;
    let health = first.health().await.unwrap();
    assert_eq!(health.schema_version, postgres_latest_schema_version());
    assert!(health.healthy(), "{health}");
    // Connecting again migrates nothing.
    drop(store(&url).await);
    let raw = connect(&url).await;
    let versions: Vec<i32> = raw
        .query("SELECT version FROM schema_version ORDER BY version", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let latest = i32::try_from(postgres_latest_schema_version()).unwrap();
    assert_eq!(versions, (1..=latest).collect::<Vec<_>>());

    raw.execute(
        "INSERT INTO schema_version (version) VALUES ($1)",
        &[&(latest + 1)],
    )
    .await
    .unwrap();
    let Err(err) = PostgresStore::connect(&url, options()).await else {
        panic!("a newer database was accepted");
    };
    assert!(
        matches!(&err, Error::Migration { detail } if detail.contains("newer")),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn durability_settings_are_checked_at_connect() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let lax = format!("{url}&options=-c%20synchronous_commit%3Doff");
    let Err(err) = PostgresStore::connect(&lax, options()).await else {
        panic!("synchronous_commit = off was accepted");
    };
    assert!(err.to_string().contains("synchronous_commit"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_audit_trail_is_append_only_even_for_its_owner() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let s = store(&url).await;
    s.audit(event(1)).await.unwrap();
    let raw = connect(&url).await;
    for sql in [
        "UPDATE audit SET outcome = 'forged'",
        "DELETE FROM audit",
        "TRUNCATE audit CASCADE",
        "UPDATE audit_chain SET link = 'x'",
        "DELETE FROM audit_chain",
        "TRUNCATE audit_chain",
    ] {
        let err = raw.batch_execute(sql).await.unwrap_err();
        let message = err.as_db_error().map(|d| d.message().to_owned());
        assert!(
            message
                .as_deref()
                .is_some_and(|m| m.contains("append-only")),
            "{sql}: {err:?}"
        );
    }
    let log = s.audit_log(0, 10).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].event, event(1));
}

/// The deployment docs/postgres.md describes: the schema owned by one role, the server
/// connecting as another with DML on every table but UPDATE/DELETE/TRUNCATE on the trail.
#[tokio::test(flavor = "multi_thread")]
async fn the_server_role_cannot_change_the_trail() {
    let Some(url) = fresh_database().await else {
        return;
    };
    drop(store(&url).await);
    let raw = connect(&url).await;
    let db: String = raw
        .query_one("SELECT current_database()", &[])
        .await
        .unwrap()
        .get(0);
    let role = format!("mssd_{db}");
    raw.batch_execute(&format!(
        "CREATE ROLE {role} LOGIN; \
         GRANT CONNECT ON DATABASE {db} TO {role}; \
         GRANT USAGE ON SCHEMA public TO {role}; \
         GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}; \
         GRANT USAGE ON SEQUENCE mssd_uid_validity TO {role}; \
         REVOKE UPDATE, DELETE, TRUNCATE ON audit, audit_chain FROM {role};"
    ))
    .await
    .unwrap();
    let as_server = url.replacen("postgres@", &format!("{role}@"), 1);
    let s = store(&as_server).await;
    let m = s
        .create_mailbox(new_mailbox("a@x.mssante.fr"))
        .await
        .unwrap();
    s.deliver(Delivery {
        recipients: vec![m.id],
        message: b"Subject: x\r\n\r\nbody".to_vec().into(),
        internal_date: 1,
        documents: Vec::new(),
    })
    .await
    .unwrap();
    s.audit(event(1)).await.unwrap();
    assert_eq!(s.audit_verify().await.unwrap().records, 1);
    let server = connect(&as_server).await;
    for sql in ["UPDATE audit SET outcome = 'x'", "DELETE FROM audit_chain"] {
        let err = server.batch_execute(sql).await.unwrap_err();
        assert_eq!(
            err.code(),
            Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
            "{sql}: {err:?}"
        );
    }
    // Nor can it take the triggers away: they belong to the owner.
    let err = server
        .batch_execute("ALTER TABLE audit DISABLE TRIGGER audit_append_only")
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_chain_finds_a_record_changed_or_removed_behind_the_triggers() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let s = store(&url).await;
    for i in 1..=5 {
        s.audit(event(i)).await.unwrap();
    }
    let verified = s.audit_verify().await.unwrap();
    assert_eq!((verified.records, verified.broken.clone()), (5, None));
    let (head_id, head) = verified.head.unwrap();
    assert_eq!((head_id, head.len()), (5, 64));

    // The owner (superuser here) can switch triggers off; the chain still tells.
    let raw = connect(&url).await;
    raw.batch_execute(
        "SET session_replication_role = replica; \
         UPDATE audit SET outcome = 'refused' WHERE id = 3;",
    )
    .await
    .unwrap();
    let verified = s.audit_verify().await.unwrap();
    assert_eq!(verified.broken.map(|b| b.0), Some(3));
    raw.batch_execute("UPDATE audit SET outcome = 'ok' WHERE id = 3")
        .await
        .unwrap();
    assert_eq!(s.audit_verify().await.unwrap().broken, None);

    raw.batch_execute("DELETE FROM audit WHERE id = 5")
        .await
        .unwrap();
    let verified = s.audit_verify().await.unwrap();
    assert_eq!(
        verified.broken,
        Some((5, "the chain links a record that is gone".to_owned()))
    );
}

/// Several connections write at once: UIDs stay distinct and dense, usage exact, the quota
/// never overrun, and deliveries to the same mailboxes in opposite orders do not deadlock.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_keep_uids_usage_and_quota_exact() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let s = Arc::new(store(&url).await);
    let a = s
        .create_mailbox(new_mailbox("a@x.mssante.fr"))
        .await
        .unwrap();
    let b = s
        .create_mailbox(new_mailbox("b@x.mssante.fr"))
        .await
        .unwrap();
    let mut limited = new_mailbox("full@x.mssante.fr");
    limited.quota_bytes = Some(100);
    let limited = s.create_mailbox(limited).await.unwrap();

    const JOBS: usize = 40;
    let mut tasks = Vec::new();
    for i in 0..JOBS {
        let s = Arc::clone(&s);
        let recipients = if i % 2 == 0 {
            vec![a.id, b.id, limited.id]
        } else {
            vec![limited.id, b.id, a.id]
        };
        tasks.push(tokio::spawn(async move {
            // 10 bytes each: the limited mailbox has room for exactly ten.
            let d = Delivery {
                recipients,
                message: format!("message{i:03}").into_bytes().into(),
                internal_date: 0,
                documents: Vec::new(),
            };
            match s.deliver(d).await {
                Ok(delivered) => delivered.len(),
                Err(Error::QuotaExceeded { .. }) => s
                    .deliver(Delivery {
                        recipients: vec![a.id, b.id],
                        message: format!("message{i:03}").into_bytes().into(),
                        internal_date: 0,
                        documents: Vec::new(),
                    })
                    .await
                    .unwrap()
                    .len(),
                Err(e) => panic!("delivery {i}: {e}"),
            }
        }));
    }
    let mut entries = 0;
    for t in tasks {
        entries += t.await.unwrap();
    }
    let usage = s.quota(limited.id).await.unwrap();
    assert_eq!((usage.used_bytes, usage.used_messages), (100, 10));
    for (mailbox, expected) in [(a.id, JOBS), (b.id, JOBS)] {
        let inbox = s.folders(mailbox).await.unwrap()[0].clone();
        let uids: Vec<u32> = s
            .messages(inbox.id)
            .await
            .unwrap()
            .iter()
            .map(|m| m.uid)
            .collect();
        let dense: Vec<u32> = (1..=u32::try_from(expected).unwrap()).collect();
        assert_eq!(uids, dense, "UIDs distinct and without gaps");
        let usage = s.quota(mailbox).await.unwrap();
        assert_eq!(usage.used_messages, expected as u64);
    }
    // a and b get every message; the limited mailbox 10 of them (one entry per recipient
    // and delivery, a refused delivery retried without it, the bytes shared).
    let expected_entries = JOBS * 2 + 10;
    assert_eq!(entries, expected_entries);
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_folder_creations_get_distinct_uidvalidities() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let s = Arc::new(store(&url).await);
    let m = s
        .create_mailbox(new_mailbox("a@x.mssante.fr"))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..20 {
        let s = Arc::clone(&s);
        tasks.push(tokio::spawn(async move {
            s.create_folder(m.id, &format!("F{i}")).await.unwrap()
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let mut validities: Vec<u32> = s
        .folders(m.id)
        .await
        .unwrap()
        .iter()
        .map(|f| f.uid_validity)
        .collect();
    validities.sort_unstable();
    validities.dedup();
    assert_eq!(validities.len(), 25);
}

/// A body streamed into a staging file ([`Store::new_blob`]) is stored whole in the database
/// with its head; the staging file goes once stored.
#[tokio::test(flavor = "multi_thread")]
async fn a_staged_body_is_stored_with_its_head_and_its_file_removed() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut options = options();
    options.staging_dir = dir.path().join("staging");
    let s = PostgresStore::connect(&url, options).await.unwrap();
    let m = s
        .create_mailbox(new_mailbox("a@x.mssante.fr"))
        .await
        .unwrap();
    let head = b"Subject: big\r\n\r\n".to_vec();
    let body: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let mut writer = s.new_blob().unwrap();
    writer.write(&body).unwrap();
    let staged = writer.finish().unwrap();
    assert_eq!(walk(&dir.path().join("staging")).len(), 1);
    let delivered = s
        .deliver(Delivery {
            recipients: vec![m.id],
            message: MessageBytes {
                head: head.clone(),
                body: Some(staged),
            },
            internal_date: 0,
            documents: Vec::new(),
        })
        .await
        .unwrap();
    let stored = s
        .message_body(delivered[0].folder, delivered[0].uid)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.len(), head.len() + body.len());
    assert_eq!(&stored[..head.len()], &head[..]);
    assert_eq!(&stored[head.len()..], &body[..]);
    let meta = s
        .message_meta(delivered[0].folder, delivered[0].uid)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(meta.size, stored.len() as u64);
    assert!(
        walk(&dir.path().join("staging")).is_empty(),
        "the staging file is removed once its message is stored"
    );
}

/// Files under `dir`, recursively.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// A CA and a certificate for 127.0.0.1 it signed: (CA certificate DER, server cert PEM, key PEM).
fn server_certificate() -> (Vec<u8>, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let params = CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    (ca.der().to_vec(), cert.pem(), key.serialize_pem())
}

fn client_config(ca_der: Vec<u8>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls_pki_types::CertificateDer::from(ca_der))
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// TLS through the rustls connector: the server's certificate checked against the given
/// roots, refused with other roots.
#[tokio::test(flavor = "multi_thread")]
async fn tls_with_rustls_verifies_the_server() {
    let Some(cluster) = common::postgres::cluster() else {
        return;
    };
    let url = fresh_database().await.unwrap();
    let (ca, cert_pem, key_pem) = server_certificate();
    let dir = cluster.dir.join("tls");
    std::fs::create_dir_all(&dir).unwrap();
    let (cert_file, key_file) = (dir.join("server.crt"), dir.join("server.key"));
    std::fs::write(&cert_file, cert_pem).unwrap();
    std::fs::write(&key_file, key_pem).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    if let Some(user) = cluster.run_as {
        let status = std::process::Command::new("chown")
            .arg("-R")
            .arg(format!("{user}:"))
            .arg(&dir)
            .status()
            .unwrap();
        assert!(status.success());
    }
    let admin = connect(&cluster.url("postgres")).await;
    for sql in [
        format!("ALTER SYSTEM SET ssl_cert_file = '{}'", cert_file.display()),
        format!("ALTER SYSTEM SET ssl_key_file = '{}'", key_file.display()),
        "ALTER SYSTEM SET ssl = on".to_owned(),
        "SELECT pg_reload_conf()".to_owned(),
    ] {
        admin.batch_execute(&sql).await.unwrap();
    }
    let tls_url = url.replace("sslmode=disable", "sslmode=require");
    let with_roots = |ca: Vec<u8>| {
        let mut o = options();
        o.tls = mssd_store::PostgresTls::Rustls(client_config(ca));
        o
    };
    // The reload is asynchronous: wait until the server offers TLS.
    let mut store = None;
    for _ in 0..50 {
        match PostgresStore::connect(&tls_url, with_roots(ca.clone())).await {
            Ok(s) => {
                store = Some(s);
                break;
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
    let s = store.expect("no TLS connection within 5 s");
    s.create_mailbox(new_mailbox("tls@x.mssante.fr"))
        .await
        .unwrap();
    let db = tls_url
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let encrypted: i64 = admin
        .query_one(
            "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
             WHERE s.ssl AND a.application_name = 'mssd' AND a.datname = $1",
            &[&db],
        )
        .await
        .unwrap()
        .get(0);
    assert!(encrypted >= 1, "the store's connections use TLS");

    // Another CA: the server's certificate is refused.
    let (other_ca, _, _) = server_certificate();
    let Err(err) = PostgresStore::connect(&tls_url, with_roots(other_ca)).await else {
        panic!("a server certificate from an unknown CA was accepted");
    };
    assert!(
        matches!(&err, Error::Postgres(d) if d.to_lowercase().contains("certificate")),
        "{err}"
    );
}

/// Two stores on one database, as two mssd nodes: a change committed through one wakes the
/// watchers of the other (LISTEN/NOTIFY), with the folder's new modseq.
#[tokio::test(flavor = "multi_thread")]
async fn a_change_on_one_node_wakes_watchers_on_another() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let node_a = store(&url).await;
    let node_b = store(&url).await;
    let m = node_a
        .create_mailbox(new_mailbox("a@x.mssante.fr"))
        .await
        .unwrap();
    let inbox = node_b.folders(m.id).await.unwrap()[0].clone();
    let mut watcher = node_b.change_feed().watch(inbox.id, inbox.highest_modseq);
    // Let node B's listener (re)publish the watched folder once it listens.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let _ = watcher.borrow_and_update();
    let delivered = node_a
        .deliver(Delivery {
            recipients: vec![m.id],
            message: b"Subject: hi\r\n\r\nbody".to_vec().into(),
            internal_date: 0,
            documents: Vec::new(),
        })
        .await
        .unwrap();
    let wait = std::time::Duration::from_secs(5);
    tokio::time::timeout(wait, watcher.changed())
        .await
        .expect("node B was not told within 5 s")
        .unwrap();
    assert_eq!(*watcher.borrow_and_update(), delivered[0].modseq);

    // Flags changed on B wake a watcher on A.
    let mut on_a = node_a.change_feed().watch(inbox.id, delivered[0].modseq);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let _ = on_a.borrow_and_update();
    let modseq = node_b
        .set_flags(inbox.id, delivered[0].uid, vec!["\\Seen".to_owned()])
        .await
        .unwrap();
    tokio::time::timeout(wait, on_a.changed())
        .await
        .expect("node A was not told within 5 s")
        .unwrap();
    assert_eq!(*on_a.borrow_and_update(), modseq);
}
