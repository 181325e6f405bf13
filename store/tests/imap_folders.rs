//! Folder administration for IMAP: CREATE, RENAME, DELETE, subscriptions.

#[macro_use]
mod common;

use common::{Db, add_mailbox, folder_named};
use mssd_store::{Error, FolderId};

fn names(folders: &[mssd_store::Folder]) -> Vec<String> {
    let mut names: Vec<String> = folders.iter().map(|f| f.name.clone()).collect();
    names.sort();
    names
}

async fn create_folder_rules(db: Db) {
    let s = &*db.store;
    let m = add_mailbox(s, "a@x.mssante.fr").await;

    let created = s.create_folder(m.id, "Projets").await.unwrap();
    assert_eq!(created.name, "Projets");
    assert_eq!(created.mailbox, m.id);
    assert_eq!((created.messages, created.uid_next), (0, 1));
    assert_eq!(s.folder(created.id).await.unwrap(), Some(created.clone()));
    assert_eq!(s.folder(FolderId(9_999)).await.unwrap(), None);

    // A trailing separator only declares children to come.
    assert_eq!(
        s.create_folder(m.id, "Projets/2024/").await.unwrap().name,
        "Projets/2024"
    );
    // Names are case-sensitive, except INBOX.
    assert_eq!(
        s.create_folder(m.id, "projets").await.unwrap().name,
        "projets"
    );
    assert_eq!(
        s.create_folder(m.id, "inbox/Sub").await.unwrap().name,
        "INBOX/Sub"
    );

    let cases: &[(&str, &str)] = &[
        ("Projets", "already exists"),
        ("INBOX", "already exists"),
        ("inbox", "already exists"),
        ("Sent", "already exists"),
        ("", "invalid folder name"),
        ("a//b", "invalid folder name"),
        ("wild*", "invalid folder name"),
    ];
    for (name, expected) in cases {
        let err = s.create_folder(m.id, name).await.unwrap_err();
        assert!(err.to_string().contains(expected), "{name:?}: {err}");
    }
    let all = s.folders(m.id).await.unwrap();
    assert_eq!(all.len(), 9);
    let mut validities: Vec<u32> = all.iter().map(|f| f.uid_validity).collect();
    validities.sort_unstable();
    validities.dedup();
    assert_eq!(validities.len(), 9, "every folder has its own UIDVALIDITY");
}

async fn delete_then_create_gives_a_new_uidvalidity_and_keeps_subfolders(db: Db) {
    let s = &*db.store;
    let m = add_mailbox(s, "a@x.mssante.fr").await;
    let first = s.create_folder(m.id, "Dossiers").await.unwrap();
    let child = s.create_folder(m.id, "Dossiers/Patient").await.unwrap();
    s.append(first.id, b"hello".to_vec().into(), vec![], 1)
        .await
        .unwrap();
    assert_eq!(db.count("blobs").await, 1);

    s.delete_folder(m.id, "Dossiers").await.unwrap();
    assert_eq!(s.folder(first.id).await.unwrap(), None);
    assert_eq!(s.folder(child.id).await.unwrap(), Some(child.clone()));
    assert_eq!(
        db.count("blobs").await,
        0,
        "the deleted folder's blob is gone"
    );
    assert_eq!(db.count("messages").await, 0);

    let again = s.create_folder(m.id, "Dossiers").await.unwrap();
    assert_ne!(again.uid_validity, first.uid_validity);
    assert_ne!(again.id, first.id);
    assert_eq!(again.messages, 0);

    let err = s.delete_folder(m.id, "Dossiers/Absent").await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    for inbox in ["INBOX", "Inbox"] {
        let err = s.delete_folder(m.id, inbox).await.unwrap_err();
        assert!(matches!(err, Error::Invalid { .. }), "{err}");
    }
}

async fn rename_moves_children_and_keeps_uidvalidity(db: Db) {
    let s = &*db.store;
    let m = add_mailbox(s, "a@x.mssante.fr").await;
    let other = add_mailbox(s, "b@x.mssante.fr").await;
    s.create_folder(other.id, "Nouveau").await.unwrap();
    let top = s.create_folder(m.id, "Ancien").await.unwrap();
    let child = s.create_folder(m.id, "Ancien/Fils").await.unwrap();
    let grandchild = s.create_folder(m.id, "Ancien/Fils/Petit").await.unwrap();
    let lookalike = s.create_folder(m.id, "Ancienne").await.unwrap();
    let d = s
        .append(child.id, b"m".to_vec().into(), vec![], 1)
        .await
        .unwrap();
    s.subscribe(m.id, "Ancien/Fils").await.unwrap();

    s.rename_folder(m.id, "Ancien", "Nouveau").await.unwrap();

    for (before, name) in [
        (&top, "Nouveau"),
        (&child, "Nouveau/Fils"),
        (&grandchild, "Nouveau/Fils/Petit"),
        (&lookalike, "Ancienne"),
    ] {
        let after = s.folder(before.id).await.unwrap().unwrap();
        assert_eq!(after.name, name);
        assert_eq!(after.uid_validity, before.uid_validity, "{name}");
    }
    let moved = folder_named(s, m.id, "Nouveau/Fils").await;
    assert_eq!(moved.messages, 1);
    assert_eq!(
        s.message_body(moved.id, d.uid).await.unwrap().unwrap(),
        b"m"
    );
    let subscribed = s.subscriptions(m.id).await.unwrap();
    assert!(
        subscribed.contains(&"Nouveau/Fils".to_owned()),
        "{subscribed:?}"
    );
    assert!(
        !subscribed.contains(&"Ancien/Fils".to_owned()),
        "{subscribed:?}"
    );

    // Refusals, and what each leaves behind: nothing changed.
    s.create_folder(m.id, "Pris").await.unwrap();
    let cases: &[(&str, &str, &str)] = &[
        ("INBOX", "Autre", "Invalid"),
        ("inbox", "Autre", "Invalid"),
        ("Nouveau", "Pris", "AlreadyExists"),
        ("Nouveau", "Nouveau", "AlreadyExists"),
        ("Nouveau", "INBOX", "AlreadyExists"),
        ("Nouveau", "Nouveau/Fils/Dessous", "Invalid"),
        ("Nouveau/Fils", "Nouveau", "AlreadyExists"),
        ("Absent", "Ailleurs", "NotFound"),
    ];
    let before = names(&s.folders(m.id).await.unwrap());
    for (from, to, kind) in cases {
        let err = s.rename_folder(m.id, from, to).await.unwrap_err();
        let got = match err {
            Error::Invalid { .. } => "Invalid",
            Error::AlreadyExists { .. } => "AlreadyExists",
            Error::NotFound { .. } => "NotFound",
            ref other => panic!("{from}->{to}: unexpected {other}"),
        };
        assert_eq!(got, *kind, "{from}->{to}");
    }
    assert_eq!(names(&s.folders(m.id).await.unwrap()), before);

    // A hierarchy moved under another folder is fine.
    s.create_folder(m.id, "Cible").await.unwrap();
    s.create_folder(m.id, "Cible/Fils").await.unwrap();
    s.rename_folder(m.id, "Nouveau", "Cible/X").await.unwrap();
    let err = s.rename_folder(m.id, "Cible/X", "Cible").await.unwrap_err();
    assert!(matches!(err, Error::AlreadyExists { .. }), "{err}");
    assert_eq!(folder_named(s, m.id, "Cible/X/Fils").await.id, child.id);

    // A collision below the renamed folder is caught before anything moves.
    let src = s.create_folder(m.id, "Src").await.unwrap();
    s.create_folder(m.id, "Src/c").await.unwrap();
    s.create_folder(m.id, "Dst/c").await.unwrap();
    let err = s.rename_folder(m.id, "Src", "Dst").await.unwrap_err();
    assert!(matches!(err, Error::AlreadyExists { .. }), "{err}");
    assert_eq!(s.folder(src.id).await.unwrap().unwrap().name, "Src");
    assert_eq!(folder_named(s, m.id, "Src/c").await.name, "Src/c");
}

async fn subscriptions(db: Db) {
    let s = &*db.store;
    let m = add_mailbox(s, "a@x.mssante.fr").await;
    let defaults = common::strings(&["Archive", "Drafts", "INBOX", "Sent", "Trash"]);
    assert_eq!(s.subscriptions(m.id).await.unwrap(), defaults);

    s.subscribe(m.id, "Projets").await.unwrap();
    s.subscribe(m.id, "Projets").await.unwrap();
    s.subscribe(m.id, "inbox/Sub").await.unwrap();
    let mut expected = defaults.clone();
    expected.extend(common::strings(&["INBOX/Sub", "Projets"]));
    expected.sort();
    assert_eq!(s.subscriptions(m.id).await.unwrap(), expected);

    s.unsubscribe(m.id, "Projets").await.unwrap();
    let err = s.unsubscribe(m.id, "Projets").await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    s.unsubscribe(m.id, "Trash").await.unwrap();
    let mut expected: Vec<String> = defaults.into_iter().filter(|n| n != "Trash").collect();
    expected.push("INBOX/Sub".to_owned());
    expected.sort();
    assert_eq!(s.subscriptions(m.id).await.unwrap(), expected);

    // Deleting a folder keeps its subscription (RFC 9051 6.3.9); a removed mailbox takes all.
    s.create_folder(m.id, "Temp").await.unwrap();
    s.subscribe(m.id, "Temp").await.unwrap();
    s.delete_folder(m.id, "Temp").await.unwrap();
    assert!(
        s.subscriptions(m.id)
            .await
            .unwrap()
            .contains(&"Temp".to_owned())
    );
    s.remove_mailbox(&m.address).await.unwrap();
    assert_eq!(db.count("subscriptions").await, 0);
    assert!(matches!(
        s.subscriptions(m.id).await.unwrap_err(),
        Error::NotFound { .. }
    ));
}

contract_tests!(
    create_folder_rules,
    delete_then_create_gives_a_new_uidvalidity_and_keeps_subfolders,
    rename_moves_children_and_keeps_uidvalidity,
    subscriptions,
);
