//! Grants: rights on a mailbox held by another mailbox.

#[macro_use]
mod common;

use common::{Db, addr};
use mssd_core::MailboxKind;
use mssd_store::{Error, NewMailbox, Rights};

fn mailbox(address: &str, kind: MailboxKind) -> NewMailbox {
    NewMailbox {
        address: addr(address),
        kind,
        display_name: None,
        owner_id_nat: None,
        password_hash: None,
        certificate_dn: None,
        quota_bytes: None,
    }
}

#[test]
fn rights_parse_table() {
    /// (text, Some((read, write, send)) or None for a refusal)
    type Case<'a> = (&'a str, Option<(bool, bool, bool)>);
    let cases: &[Case] = &[
        ("read", Some((true, false, false))),
        ("read,write", Some((true, true, false))),
        ("Send, READ", Some((true, false, true))),
        ("read,write,send", Some((true, true, true))),
        ("", None),
        ("admin", None),
        ("read,delete", None),
    ];
    for (text, expected) in cases {
        let got = Rights::parse(text).ok().map(|r| (r.read, r.write, r.send));
        assert_eq!(got, *expected, "{text}");
    }
    assert_eq!(Rights::parse("send,read").unwrap().to_string(), "read,send");
}

async fn grant_list_replace_revoke_and_cascade(db: Db) {
    let store = &*db.store;
    for (a, k) in [
        ("urgences@h.mssante.fr", MailboxKind::Org),
        ("Dr.A@h.mssante.fr", MailboxKind::Per),
        ("dr.b@h.mssante.fr", MailboxKind::Per),
    ] {
        store.create_mailbox(mailbox(a, k)).await.unwrap();
    }
    let org = addr("urgences@h.mssante.fr");
    let (a, b) = (addr("dr.a@h.mssante.fr"), addr("dr.b@h.mssante.fr"));
    store
        .grant(&org, &a, Rights::parse("read,send").unwrap())
        .await
        .unwrap();
    store
        .grant(&org, &b, Rights::parse("read").unwrap())
        .await
        .unwrap();
    let on = store.grants_on(&org).await.unwrap();
    assert_eq!(on.len(), 2);
    assert_eq!(
        on[0].grantee.to_string(),
        "Dr.A@h.mssante.fr",
        "address as created"
    );
    assert!(on[0].rights.send && !on[1].rights.send);
    // Replacing rights, listing from the grantee's side.
    store
        .grant(&org, &b, Rights::parse("read,write").unwrap())
        .await
        .unwrap();
    let to_b = store.grants_to(&b).await.unwrap();
    assert_eq!(to_b.len(), 1);
    assert_eq!(to_b[0].mailbox, org);
    assert!(to_b[0].rights.write);
    // Errors: self grant, unknown mailbox, revoking what does not exist.
    assert!(matches!(
        store
            .grant(&org, &org, Rights::parse("read").unwrap())
            .await,
        Err(Error::Invalid { .. })
    ));
    assert!(matches!(
        store
            .grant(&addr("x@h.mssante.fr"), &a, Rights::parse("read").unwrap())
            .await,
        Err(Error::NotFound { .. })
    ));
    store.revoke(&org, &b).await.unwrap();
    assert!(matches!(
        store.revoke(&org, &b).await,
        Err(Error::NotFound { .. })
    ));
    // Removing the grantee removes its grants.
    store.remove_mailbox(&a).await.unwrap();
    assert!(store.grants_on(&org).await.unwrap().is_empty());
}

contract_tests!(grant_list_replace_revoke_and_cascade,);
