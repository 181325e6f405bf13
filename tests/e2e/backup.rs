//! End-to-end: `mssd backup` taken while messages are being submitted (small ones and large
//! ones stored as blob files), `mssd backup verify`, and `mssd restore` into another data
//! directory: every message acknowledged before the backup began is there. A damaged backup
//! is refused by `verify` and by `restore`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use mssd_e2e::submission::stored_id;
use mssd_e2e::submission_world::{ORG_PASSWORD, martin, secretariat, world};

const BIN: &str = env!("CARGO_BIN_EXE_mssd");

fn message(i: usize) -> Vec<u8> {
    let mut m = format!(
        "From: <{}>\r\nTo: <{}>\r\nSubject: charge {i}\r\n\r\n",
        secretariat(),
        martin()
    )
    .into_bytes();
    // Every fifth message is over 128 KiB: its body goes to a blob file.
    let lines = if i.is_multiple_of(5) { 3_000 } else { 3 };
    for _ in 0..lines {
        m.extend_from_slice(b"Compte rendu de consultation, ligne de texte du corps.\r\n");
    }
    m
}

/// `mssd restore BACKUP` with a copy of the world's configuration in a new directory (so its
/// `data_dir` is a new one); the directory and what the command said.
fn restore_elsewhere(
    world: &mssd_e2e::submission_world::World,
    backup: &std::path::Path,
) -> (tempfile::TempDir, mssd_e2e::CliOutput) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mssd.toml");
    std::fs::copy(world.op.config_path(), &config).unwrap();
    let out = mssd_e2e::run_cli(
        std::path::Path::new(BIN),
        &[
            "--config",
            config.to_str().unwrap(),
            "restore",
            backup.to_str().unwrap(),
        ],
        None,
    );
    (dir, out)
}

#[test]
fn a_backup_taken_under_load_restores_every_acknowledged_message() {
    let world = world(BIN);
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut smtp = world.logged_in(&secretariat(), ORG_PASSWORD);
    let load = {
        let (acknowledged, stop) = (acknowledged.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let reply = smtp.send_message(&secretariat(), &[&martin()], &message(i));
                stored_id(&reply);
                acknowledged
                    .lock()
                    .unwrap()
                    .push(format!("Subject: charge {i}"));
                i += 1;
            }
            i
        })
    };
    while acknowledged.lock().unwrap().len() < 20 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let before: Vec<String> = acknowledged.lock().unwrap().clone();
    let backups = tempfile::tempdir().unwrap();
    let dest = backups.path().join("b1");
    let taken = world.op.cli_ok(&["backup", dest.to_str().unwrap()], None);
    assert!(taken.stdout.starts_with("backup "), "{}", taken.stdout);
    stop.store(true, Ordering::Relaxed);
    let sent = load.join().unwrap();
    assert!(sent > before.len(), "the load went on during the backup");

    let verified = world
        .op
        .cli_ok(&["backup", "verify", dest.to_str().unwrap()], None);
    assert!(verified.stdout.contains(" intact: "), "{}", verified.stdout);

    // Restored with a copy of the configuration whose data directory is new.
    let (elsewhere, restore) = restore_elsewhere(&world, &dest);
    assert!(restore.status.success(), "{}", restore.stderr);
    let restored = mssd_e2e::store::messages(&elsewhere.path().join("data"), &martin(), "INBOX");
    let subjects: Vec<String> = restored
        .iter()
        .filter_map(|m| {
            String::from_utf8_lossy(m)
                .lines()
                .find(|l| l.starts_with("Subject: "))
                .map(str::to_owned)
        })
        .collect();
    for subject in &before {
        assert!(
            subjects.contains(subject),
            "{subject} missing after restore"
        );
    }
    let large = restored.iter().filter(|m| m.len() > 128 * 1024).count();
    assert!(
        large >= 4,
        "large messages restored from their blob files: {large}"
    );

    // A restore over the running server's store is refused, and changes nothing.
    let refused = world.op.cli(&["restore", dest.to_str().unwrap()], None);
    assert!(!refused.status.success());
    assert!(refused.stderr.contains("exists"), "{}", refused.stderr);

    // A damaged backup: verify says so (exit 1), restore refuses.
    let database = dest.join("mssd.sqlite3");
    let mut bytes = std::fs::read(&database).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&database, bytes).unwrap();
    let damaged = world
        .op
        .cli(&["backup", "verify", dest.to_str().unwrap()], None);
    assert_eq!(damaged.status.code(), Some(1), "{}", damaged.stdout);
    assert!(
        damaged.stdout.contains("mssd.sqlite3 differs"),
        "{}",
        damaged.stdout
    );
    let (other, refused) = restore_elsewhere(&world, &dest);
    assert!(!refused.status.success());
    assert!(!other.path().join("data/mssd.sqlite3").exists());

    let audited = world.audit_details("store.backup");
    assert_eq!(audited.len(), 1, "{audited:?}");
}
