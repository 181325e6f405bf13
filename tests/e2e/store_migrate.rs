//! `mssd store migrate`: the real binary copies an SQLite store into PostgreSQL, prints its
//! summary without the URL's password, and a second run says it was already done. Skipped
//! (with a message) when PostgreSQL is not installed.

use std::process::Command;

use mssd_core::{Address, MailboxKind};
use mssd_store::{
    AuditEvent, Delivery, NewMailbox, PostgresOptions, PostgresStore, SqliteOptions, SqliteStore,
    Store,
};

#[tokio::test(flavor = "multi_thread")]
async fn the_command_migrates_verifies_and_hides_the_password() {
    let Some(url) = mssd_pg_test::fresh_database().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mssd.db");
    let store = SqliteStore::open(&db, SqliteOptions::default()).unwrap();
    let mailbox = store
        .create_mailbox(NewMailbox {
            address: Address::parse("a@hopital.mssante.fr").unwrap(),
            kind: MailboxKind::Per,
            display_name: None,
            owner_id_nat: None,
            password_hash: None,
            certificate_dn: None,
            quota_bytes: None,
        })
        .await
        .unwrap();
    for i in 0..50 {
        store
            .deliver(Delivery {
                recipients: vec![mailbox.id],
                message: format!("Subject: {i}\r\n\r\nbody {i}\r\n")
                    .into_bytes()
                    .into(),
                internal_date: 1_750_000_000 + i,
                documents: Vec::new(),
            })
            .await
            .unwrap();
    }
    store
        .audit(AuditEvent {
            at: 1_750_000_000_000,
            kind: "mailbox.create".into(),
            actor: "admin".into(),
            subject: "a@hopital.mssante.fr".into(),
            outcome: "ok".into(),
            detail: serde_json::json!({}),
        })
        .await
        .unwrap();
    store.close().await.unwrap();
    // The test cluster trusts loopback connections: any password is accepted, and must not
    // be printed.
    let with_password = url.replacen('@', ":Secr3tPassw0rd@", 1);
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_mssd"))
            .args(["store", "migrate", "--yes", "--from"])
            .arg(&db)
            .args(["--to", &with_password])
            .output()
            .unwrap()
    };
    let first = run();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&first.stdout).into_owned(),
        String::from_utf8_lossy(&first.stderr).into_owned(),
    );
    assert!(first.status.success(), "{stdout}\n{stderr}");
    println!("{stdout}");
    assert!(stdout.contains("verified: every table"), "{stdout}");
    assert!(stdout.contains("messages"), "{stdout}");
    assert!(
        stdout.contains("audit chain: 1 records, verified"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("Secr3t") && !stderr.contains("Secr3t"),
        "{stdout}\n{stderr}"
    );
    let second = run();
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(second.status.success(), "{stdout}");
    assert!(stdout.contains("already migrated"), "{stdout}");

    let pg = PostgresStore::connect(&url, PostgresOptions::new(2))
        .await
        .unwrap();
    let folders = pg.folders(mailbox.id).await.unwrap();
    let inbox = folders.iter().find(|f| f.name == "INBOX").unwrap();
    assert_eq!(pg.messages(inbox.id).await.unwrap().len(), 50);
}
