//! `mssd store migrate` at volume, seen by an IMAP client: an operator's store on SQLite with
//! 100,000 messages (flags of every kind, UID gaps left by expunges) is read over IMAP, the
//! server stopped, the store migrated to PostgreSQL, the server started on PostgreSQL
//! (`[store] backend = "postgres"`): the same UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, and every
//! message at the same UID with the same flags. Skipped (with a message) without PostgreSQL.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use mssd_core::Address;
use mssd_e2e::nodes::{fresh_database, postgres_store};
use mssd_e2e::submission_world::{A, ORG_PASSWORD, World, secretariat, world_with};
use mssd_e2e::{ImapClient, Mssd, tls_client_config};
use mssd_store::{Appended, SqliteOptions, SqliteStore, Store};

const BIN: &str = env!("CARGO_BIN_EXE_mssd");
const MESSAGES: usize = 100_000;
const BATCH: usize = 2_000;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The flags of message `n`: none, seen, answered and flagged, a keyword, deleted…
fn flags_of(n: usize) -> Vec<String> {
    let all: [&[&str]; 5] = [
        &[],
        &["\\Seen"],
        &["\\Seen", "\\Answered", "\\Flagged"],
        &["$Forwarded", "\\Seen"],
        &["\\Draft", "$Important"],
    ];
    all[n % all.len()].iter().map(|f| f.to_string()).collect()
}

/// 100,000 messages appended to the secretariat's INBOX through the store (the server runs
/// meanwhile, as a second process would), then every seventh expunged (UID gaps).
async fn fill(world: &World) {
    let store = SqliteStore::open(
        &world.op.data_dir().join("mssd.sqlite3"),
        SqliteOptions::default(),
    )
    .unwrap();
    let address = Address::parse(&secretariat()).unwrap();
    let mailbox = store.mailbox(&address).await.unwrap().expect("secretariat");
    let inbox = store.folders(mailbox.id).await.unwrap()[0].id;
    for start in (0..MESSAGES).step_by(BATCH) {
        let batch = (start..start + BATCH)
            .map(|n| Appended {
                message: format!(
                    "From: <dr.martin@{A}>\r\nSubject: message {n}\r\n\r\nbody of message {n}\r\n"
                )
                .into_bytes()
                .into(),
                flags: flags_of(n),
                internal_date: 1_760_000_000 + n as i64,
            })
            .collect();
        store.append_all(inbox, batch).await.unwrap();
    }
    let gone: Vec<u32> = store
        .messages(inbox)
        .await
        .unwrap()
        .iter()
        .map(|m| m.uid)
        .filter(|uid| uid % 7 == 0)
        .collect();
    store.expunge(inbox, gone).await.unwrap();
    store.close().await.unwrap();
}

/// What an IMAP client sees of the INBOX: SELECT's UIDVALIDITY, UIDNEXT and HIGHESTMODSEQ, and
/// each UID's flags (sorted).
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    select: Vec<String>,
    flags: BTreeMap<u32, Vec<String>>,
}

async fn read_inbox(world: &World, server: &Mssd) -> Seen {
    let tls = tls_client_config(&world.op.pki("root.pem"), None);
    let (mut client, _) = ImapClient::connect_tls(server.addr("imaps"), tls, &format!("mail.{A}"))
        .await
        .unwrap();
    assert!(
        client
            .login(&secretariat(), ORG_PASSWORD)
            .await
            .unwrap()
            .is_ok()
    );
    let select = client.command("SELECT INBOX (CONDSTORE)").await.unwrap();
    assert!(select.is_ok(), "{}", select.describe());
    let mut codes: Vec<String> = select
        .untagged
        .iter()
        .filter_map(|u| {
            let code = u.line.strip_prefix("OK [")?.split(']').next()?;
            ["UIDVALIDITY", "UIDNEXT", "HIGHESTMODSEQ"]
                .iter()
                .any(|k| code.starts_with(k))
                .then(|| code.to_owned())
        })
        .collect();
    codes.sort();
    assert_eq!(codes.len(), 3, "{}", select.describe());
    let fetch = client.command("UID FETCH 1:* (FLAGS)").await.unwrap();
    assert!(fetch.is_ok(), "{}", fetch.tag_line);
    let mut flags = BTreeMap::new();
    for u in &fetch.untagged {
        let uid = u
            .line
            .split("UID ")
            .nth(1)
            .and_then(|rest| rest.split([' ', ')']).next())
            .and_then(|n| n.parse::<u32>().ok())
            .unwrap_or_else(|| panic!("no UID in {}", u.line));
        let list = u
            .line
            .split("FLAGS (")
            .nth(1)
            .and_then(|rest| rest.split(')').next())
            .unwrap_or_else(|| panic!("no FLAGS in {}", u.line));
        let mut list: Vec<String> = list.split_whitespace().map(str::to_owned).collect();
        list.sort();
        flags.insert(uid, list);
    }
    Seen {
        select: codes,
        flags,
    }
}

#[test]
fn a_hundred_thousand_messages_keep_their_uids_and_flags_on_postgresql() {
    let Some(url) = fresh_database() else {
        return;
    };
    let world = world_with(BIN, "");
    let rt = runtime();
    let started = Instant::now();
    rt.block_on(fill(&world));
    eprintln!("{MESSAGES} messages stored in {:?}", started.elapsed());
    let before = rt.block_on(read_inbox(&world, &world.server));
    let expected = MESSAGES - MESSAGES / 7;
    assert_eq!(before.flags.len(), expected, "messages seen on SQLite");

    let World { op, server, issuer } = world;
    server.terminate(Duration::from_secs(10));
    let started = Instant::now();
    let database = op.data_dir().join("mssd.sqlite3");
    op.cli_ok(
        &[
            "store",
            "migrate",
            "--yes",
            "--from",
            database.to_str().unwrap(),
            "--to",
            &url,
        ],
        None,
    );
    eprintln!("migrated in {:?}", started.elapsed());
    let mut config = std::fs::read_to_string(op.config_path()).unwrap();
    config.push_str(&postgres_store(&url));
    std::fs::write(op.config_path(), config).unwrap();
    // The SQLite file moves away: the server must read PostgreSQL, nothing else.
    std::fs::rename(&database, op.data_dir().join("migrated.sqlite3")).unwrap();
    let server = op.start();
    let world = World { op, server, issuer };
    let after = rt.block_on(read_inbox(&world, &world.server));
    assert_eq!(after.select, before.select, "SELECT codes");
    let differing: Vec<_> = before
        .flags
        .iter()
        .filter(|(uid, flags)| after.flags.get(uid) != Some(flags))
        .take(5)
        .collect();
    assert!(
        differing.is_empty(),
        "UIDs whose flags differ or are gone: {differing:?}"
    );
    assert_eq!(after.flags.len(), before.flags.len());
    eprintln!(
        "{} messages: same UIDs and flags over IMAP; {}",
        after.flags.len(),
        after.select.join(", ")
    );
}
