//! Publication export of our mailboxes: shape, targets, red-listing.

use mssd_annuaire::{ExportOptions, export};
use mssd_core::{Address, MailboxKind};
use mssd_store::{DirectoryStore, MailboxStatus, NewMailbox, SqliteOptions, SqliteStore, Store};

fn new_mailbox(address: &str, kind: MailboxKind, owner: Option<&str>) -> NewMailbox {
    NewMailbox {
        address: Address::parse(address).unwrap(),
        kind,
        display_name: Some(format!("Boîte {address}")),
        owner_id_nat: owner.map(str::to_owned),
        password_hash: None,
        certificate_dn: None,
        quota_bytes: None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn exports_published_mailboxes_only() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("mssd.db"), SqliteOptions::default()).unwrap();
    for m in [
        new_mailbox(
            "jean.dupont@h.mssante.fr",
            MailboxKind::Per,
            Some("810001045367"),
        ),
        new_mailbox("urgences@h.mssante.fr", MailboxKind::Org, None),
        new_mailbox("dpi@h.mssante.fr", MailboxKind::App, None),
        new_mailbox(
            "secret@h.mssante.fr",
            MailboxKind::Per,
            Some("810001045375"),
        ),
        new_mailbox("parti@h.mssante.fr", MailboxKind::Per, Some("810001045383")),
        new_mailbox(
            "295109912611193@patient.mssante.fr",
            MailboxKind::Citizen,
            None,
        ),
    ] {
        store.create_mailbox(m).await.unwrap();
    }
    store
        .set_red_listed(&Address::parse("Secret@h.mssante.fr").unwrap(), true)
        .await
        .unwrap();
    store
        .set_mailbox_status(
            &Address::parse("parti@h.mssante.fr").unwrap(),
            MailboxStatus::Suspended,
        )
        .await
        .unwrap();

    let without_structure = export(&store, &ExportOptions::default()).await.unwrap();
    assert_eq!(
        without_structure["mssd"],
        serde_json::json!({"published": 1, "skipped_red_listed": 1, "skipped_suspended": 1, "skipped_no_target": 2})
    );

    let options = ExportOptions {
        structure_id: Some("1750712184".to_owned()),
        services: vec![(
            "urgences@h.mssante.fr".to_owned(),
            "Urgences adultes".to_owned(),
        )],
    };
    let bundle = export(&store, &options).await.unwrap();
    assert_eq!(bundle["resourceType"], "Bundle");
    let entries = bundle["entry"].as_array().unwrap();
    let published: Vec<&str> = entries
        .iter()
        .map(|e| {
            e["resource"]["parameter"][0]["part"][3]["valueContactPoint"]["value"]
                .as_str()
                .unwrap()
        })
        .collect();
    let mut sorted = published.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        [
            "dpi@h.mssante.fr",
            "jean.dupont@h.mssante.fr",
            "urgences@h.mssante.fr"
        ]
    );
    let text = bundle.to_string();
    assert!(!text.contains("secret@"), "red-listed mailbox published");
    assert!(
        !text.contains("295109912611193"),
        "citizen mailbox published"
    );

    let per = entries
        .iter()
        .find(|e| {
            e["request"]["url"]
                .as_str()
                .unwrap()
                .starts_with("Practitioner")
        })
        .unwrap();
    assert_eq!(per["request"]["method"], "PATCH");
    assert_eq!(
        per["request"]["url"],
        "Practitioner?identifier=urn:oid:1.2.250.1.71.4.2.1|810001045367"
    );
    let part = &per["resource"]["parameter"][0]["part"];
    assert_eq!(part[0]["valueCode"], "add");
    assert_eq!(part[2]["valueString"], "telecom");
    let contact = &part[3]["valueContactPoint"];
    assert_eq!(contact["system"], "email");
    let ext = &contact["extension"][0];
    assert_eq!(ext["url"], mssd_annuaire::export::MAILBOX_EXTENSION);
    assert_eq!(ext["extension"][0]["valueCoding"]["code"], "PER");
    assert_eq!(
        ext["extension"][1]["valueString"],
        "Boîte jean.dupont@h.mssante.fr"
    );
    assert_eq!(
        ext["extension"][2],
        serde_json::json!({"url": "listeRouge", "valueBoolean": false})
    );

    let org = entries
        .iter()
        .find(|e| e["resource"].to_string().contains("urgences@"))
        .unwrap();
    assert_eq!(
        org["request"]["url"],
        "Organization?identifier=urn:oid:1.2.250.1.71.4.2.2|1750712184"
    );
    let ext = &org["resource"]["parameter"][0]["part"][3]["valueContactPoint"]["extension"][0]["extension"];
    assert_eq!(ext[0]["valueCoding"]["code"], "ORG");
    assert_eq!(
        ext[2],
        serde_json::json!({"url": "service", "valueString": "Urgences adultes"})
    );
}
