//! A backup of a store holding small and large messages (a blob file): taken, verified,
//! restored elsewhere and read back; a damaged backup refused; a restore over a store refused.

use std::path::Path;

use mssd_backup::{DATABASE, Error, MANIFEST, restore, take, verify};
use mssd_core::{Address, MailboxKind};
use mssd_store::{Delivery, NewMailbox, SqliteOptions, SqliteStore, Store};

fn mailbox(address: &str) -> NewMailbox {
    NewMailbox {
        address: Address::parse(address).unwrap(),
        kind: MailboxKind::Per,
        display_name: None,
        owner_id_nat: None,
        password_hash: None,
        certificate_dn: None,
        quota_bytes: None,
    }
}

fn large(size: usize) -> Vec<u8> {
    let mut m = b"Subject: grand\r\n\r\n".to_vec();
    while m.len() < size {
        m.extend_from_slice(b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abc\r\n");
    }
    m
}

/// A store with one small and two large messages in a mailbox's INBOX; its database path.
async fn filled(dir: &Path) -> (std::path::PathBuf, Vec<Vec<u8>>) {
    let path = dir.join(DATABASE);
    let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
    let m = store
        .create_mailbox(mailbox("a@x.mssante.fr"))
        .await
        .unwrap();
    let messages = vec![
        b"Subject: petit\r\n\r\nbonjour\r\n".to_vec(),
        large(300_000),
        large(200_000),
    ];
    for message in &messages {
        store
            .deliver(Delivery {
                recipients: vec![m.id],
                message: message.clone().into(),
                internal_date: 1_700_000_000,
                documents: Vec::new(),
            })
            .await
            .unwrap();
    }
    (path, messages)
}

async fn bodies(path: &Path) -> Vec<Vec<u8>> {
    let store = SqliteStore::open(path, SqliteOptions::default()).unwrap();
    let m = store
        .mailbox(&Address::parse("a@x.mssante.fr").unwrap())
        .await
        .unwrap()
        .unwrap();
    let inbox = store.folders(m.id).await.unwrap()[0].id;
    let mut out = Vec::new();
    for meta in store.messages(inbox).await.unwrap() {
        out.push(store.message_body(inbox, meta.uid).await.unwrap().unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn taken_verified_restored_and_read_back() {
    let live = tempfile::tempdir().unwrap();
    let (database, messages) = filled(live.path()).await;
    let backups = tempfile::tempdir().unwrap();
    let dest = backups.path().join("b1");
    let manifest = take(&database, &dest, "test").unwrap();
    assert_eq!(
        manifest.files.len(),
        3,
        "the database and two blob files: {manifest:?}"
    );
    assert_eq!(manifest.files[0].path, DATABASE);
    let verified = verify(&dest).unwrap();
    assert_eq!(verified.files, 3);

    // Into a directory that already has data: refused, whatever is there kept.
    let refused = restore(&dest, live.path()).unwrap_err();
    assert!(matches!(refused, Error::Refused(_)), "{refused}");

    let elsewhere = tempfile::tempdir().unwrap();
    let data = elsewhere.path().join("data");
    restore(&dest, &data).unwrap();
    assert_eq!(bodies(&data.join(DATABASE)).await, messages);
    // The live store is untouched and still works.
    assert_eq!(bodies(&database).await, messages);

    // A new, non-empty destination is refused.
    assert!(matches!(
        take(&database, &dest, "test"),
        Err(Error::Refused(_))
    ));
}

/// Something done to a backup directory.
type Damage = Box<dyn Fn(&Path)>;

#[tokio::test(flavor = "multi_thread")]
async fn a_damaged_backup_is_refused() {
    let live = tempfile::tempdir().unwrap();
    let (database, _) = filled(live.path()).await;
    let backups = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, Damage)> = vec![
        (
            "a byte of a blob file changed",
            Box::new(|dir: &Path| {
                let manifest = mssd_backup::Manifest::read(dir).unwrap();
                let blob = dir.join(&manifest.files[1].path);
                let mut bytes = std::fs::read(&blob).unwrap();
                bytes[100] ^= 1;
                // The backup's files are links to the live ones: replace, never write in place.
                std::fs::remove_file(&blob).unwrap();
                std::fs::write(&blob, bytes).unwrap();
            }),
        ),
        (
            "a blob file removed",
            Box::new(|dir: &Path| {
                let manifest = mssd_backup::Manifest::read(dir).unwrap();
                std::fs::remove_file(dir.join(&manifest.files[2].path)).unwrap();
            }),
        ),
        (
            "a row changed in the database",
            Box::new(|dir: &Path| {
                let conn = rusqlite::Connection::open(dir.join(DATABASE)).unwrap();
                conn.execute("UPDATE mailboxes SET display_name = 'x'", [])
                    .unwrap();
            }),
        ),
        (
            "the manifest naming a file outside",
            Box::new(|dir: &Path| {
                let path = dir.join(MANIFEST);
                let text = std::fs::read_to_string(&path).unwrap();
                let text = text.replacen("\"blobs/", "\"../../blobs/", 1);
                std::fs::remove_file(&path).unwrap();
                std::fs::write(&path, text).unwrap();
            }),
        ),
        (
            "a blob file replaced by a symbolic link to the same bytes",
            Box::new(|dir: &Path| {
                let manifest = mssd_backup::Manifest::read(dir).unwrap();
                let blob = dir.join(&manifest.files[1].path);
                let elsewhere = dir.join("elsewhere");
                std::fs::copy(&blob, &elsewhere).unwrap();
                std::fs::remove_file(&blob).unwrap();
                std::os::unix::fs::symlink(&elsewhere, &blob).unwrap();
            }),
        ),
        (
            "a blob file dropped from the manifest and the directory",
            Box::new(|dir: &Path| {
                let path = dir.join(MANIFEST);
                let mut manifest = mssd_backup::Manifest::read(dir).unwrap();
                let gone = manifest.files.remove(1);
                std::fs::remove_file(dir.join(&gone.path)).unwrap();
                std::fs::remove_file(&path).unwrap();
                std::fs::write(&path, serde_json::to_string(&manifest).unwrap()).unwrap();
            }),
        ),
    ];
    for (i, (what, damage)) in cases.iter().enumerate() {
        let dest = backups.path().join(format!("b{i}"));
        take(&database, &dest, "test").unwrap();
        verify(&dest).unwrap();
        damage(&dest);
        let err = verify(&dest).unwrap_err();
        assert!(matches!(err, Error::Damaged { .. }), "{what}: {err}");
        let restored = backups.path().join(format!("r{i}"));
        assert!(restore(&dest, &restored).is_err(), "{what}");
        assert!(
            !restored.join(DATABASE).exists(),
            "{what}: nothing restored"
        );
    }
}
