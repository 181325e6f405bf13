//! National directory generations: chunked writes merging duplicates, diff, atomic switch,
//! discard, and clean-up of an interrupted import.

#[macro_use]
mod common;

use common::{Db, addr};
use mssd_core::MailboxKind;
use mssd_store::{
    ActivitySite, DirectoryActivity, DirectoryMailbox, DirectoryRows, DirectorySet, Error,
    ProfessionalIdentity,
};

fn mailbox(address: &str, last_name: Option<&str>, city: Option<&str>) -> DirectoryMailbox {
    DirectoryMailbox {
        address: addr(address),
        kind: MailboxKind::Per,
        id_nat_ps: Some("810001045367".to_owned()),
        structure_id: None,
        structure_name: None,
        service: None,
        civility: None,
        last_name: last_name.map(str::to_owned),
        first_name: None,
        profession: None,
        specialty: None,
        postal_code: None,
        city: city.map(str::to_owned),
        red_listed: false,
    }
}

fn activity(id_nat: &str, last_name: &str, site: &str) -> DirectoryActivity {
    DirectoryActivity {
        professional: ProfessionalIdentity {
            id_nat_ps: id_nat.to_owned(),
            last_name: Some(last_name.to_owned()),
            ..ProfessionalIdentity::default()
        },
        site: ActivitySite {
            structure_name: Some(site.to_owned()),
            ..ActivitySite::default()
        },
    }
}

async fn generations_replace_each_other_atomically_with_a_diff(db: Db) {
    let s = &*db.store;
    let g1 = s.directory_begin(DirectorySet::Mailboxes).await.unwrap();
    s.directory_write(
        g1,
        DirectoryRows::Mailboxes(vec![
            mailbox("a@x.mssante.fr", Some("A"), None),
            mailbox("b@x.mssante.fr", Some("B"), None),
        ]),
    )
    .await
    .unwrap();
    // A duplicate in a later chunk, with a different case, fills the empty city.
    s.directory_write(
        g1,
        DirectoryRows::Mailboxes(vec![
            mailbox("A@x.mssante.fr", Some("other"), Some("Paris")),
            mailbox("c@x.mssante.fr", None, None),
        ]),
    )
    .await
    .unwrap();
    // Nothing is visible before the commit.
    assert_eq!(
        s.directory_mailbox(&addr("a@x.mssante.fr")).await.unwrap(),
        None
    );
    let diff = s.directory_diff(g1, 10).await.unwrap();
    assert_eq!(
        (
            diff.previous,
            diff.next,
            diff.lines,
            diff.added,
            diff.removed,
            diff.changed
        ),
        (0, 3, 4, 3, 0, 0)
    );
    assert_eq!(
        diff.added_sample,
        ["a@x.mssante.fr", "b@x.mssante.fr", "c@x.mssante.fr"]
    );
    s.directory_commit(g1, "first.txt").await.unwrap();
    let a = s
        .directory_mailbox(&addr("A@X.mssante.fr"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.address.as_str(), "a@x.mssante.fr");
    assert_eq!(a.last_name.as_deref(), Some("A"));
    assert_eq!(a.city.as_deref(), Some("Paris"));

    // Second generation: b removed, c changed, d added, a unchanged.
    let g2 = s.directory_begin(DirectorySet::Mailboxes).await.unwrap();
    s.directory_write(
        g2,
        DirectoryRows::Mailboxes(vec![
            mailbox("A@x.mssante.fr", Some("other"), Some("Paris")),
            mailbox("a@x.mssante.fr", Some("A"), None),
            mailbox("c@x.mssante.fr", Some("C"), None),
            mailbox("d@x.mssante.fr", None, None),
        ]),
    )
    .await
    .unwrap();
    let diff = s.directory_diff(g2, 1).await.unwrap();
    assert_eq!(
        (
            diff.previous,
            diff.next,
            diff.added,
            diff.removed,
            diff.changed
        ),
        (3, 3, 1, 1, 1)
    );
    assert_eq!(diff.removed_sample, ["b@x.mssante.fr"]);
    assert_eq!(diff.changed_sample, ["c@x.mssante.fr"]);
    assert_eq!(diff.added_sample, ["d@x.mssante.fr"]);
    // Still the first generation in force until the commit.
    assert!(
        s.directory_mailbox(&addr("b@x.mssante.fr"))
            .await
            .unwrap()
            .is_some()
    );
    s.directory_commit(g2, "second.txt").await.unwrap();
    assert!(
        s.directory_mailbox(&addr("b@x.mssante.fr"))
            .await
            .unwrap()
            .is_none()
    );
    let page = s.directory_mailboxes(None, 2).await.unwrap();
    let page: Vec<_> = page.iter().map(|m| m.address.to_string()).collect();
    // The first line of a merged address gives its text.
    assert_eq!(page, ["A@x.mssante.fr", "c@x.mssante.fr"]);
    let rest = s
        .directory_mailboxes(Some("c@x.mssante.fr".to_owned()), 10)
        .await
        .unwrap();
    assert_eq!(rest.len(), 1);
    let status = s.directory_status().await.unwrap();
    assert_eq!(status.len(), 1);
    assert_eq!(
        (status[0].entries, status[0].source.as_str()),
        (3, "second.txt")
    );
    assert_eq!(status[0].generation, g2);
    // The old generation's rows are gone.
    assert_eq!(db.count("directory_mailboxes").await, 3);
    assert_eq!(db.count("directory_generations").await, 1);

    // A committed generation takes no more rows and cannot be committed again.
    let err = s
        .directory_write(g2, DirectoryRows::Mailboxes(vec![]))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }), "{err}");
    assert!(s.directory_commit(g2, "again").await.is_err());
}

async fn discard_and_interrupted_imports_leave_the_directory_in_force(db: Db) {
    let s = &*db.store;
    let g1 = s.directory_begin(DirectorySet::Mailboxes).await.unwrap();
    s.directory_write(
        g1,
        DirectoryRows::Mailboxes(vec![mailbox("a@x.mssante.fr", None, None)]),
    )
    .await
    .unwrap();
    s.directory_commit(g1, "one").await.unwrap();

    let refused = s.directory_begin(DirectorySet::Mailboxes).await.unwrap();
    s.directory_write(
        refused,
        DirectoryRows::Mailboxes(vec![mailbox("z@x.mssante.fr", None, None)]),
    )
    .await
    .unwrap();
    s.directory_discard(refused).await.unwrap();
    assert!(s.directory_commit(refused, "x").await.is_err());
    // Rows of the wrong set are refused.
    let interrupted = s.directory_begin(DirectorySet::Mailboxes).await.unwrap();
    let err = s
        .directory_write(
            interrupted,
            DirectoryRows::Activities(vec![activity("810001045367", "X", "S")]),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("holds mailboxes"), "{err}");
    s.directory_write(
        interrupted,
        DirectoryRows::Mailboxes(vec![mailbox("y@x.mssante.fr", None, None)]),
    )
    .await
    .unwrap();
    // The process dies here; the next import cleans up.
    let next = s.directory_begin(DirectorySet::Mailboxes).await.unwrap();
    assert_eq!(db.count("directory_mailboxes").await, 1);
    assert_eq!(db.count("directory_generations").await, 2);
    assert!(
        s.directory_write(interrupted, DirectoryRows::Mailboxes(vec![]))
            .await
            .is_err()
    );
    s.directory_discard(next).await.unwrap();
    let all = s.directory_mailboxes(None, 10).await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].address.as_str(), "a@x.mssante.fr");
}

async fn professionals_gather_their_activities(db: Db) {
    let s = &*db.store;
    let g1 = s
        .directory_begin(DirectorySet::Professionals)
        .await
        .unwrap();
    s.directory_write(
        g1,
        DirectoryRows::Activities(vec![
            activity("810001045367", "DUPONT", "Clinique A"),
            activity("0012600631", "MARTIN", "Cabinet B"),
        ]),
    )
    .await
    .unwrap();
    s.directory_write(
        g1,
        DirectoryRows::Activities(vec![activity("810001045367", "DUPONT", "Hôpital C")]),
    )
    .await
    .unwrap();
    let diff = s.directory_diff(g1, 10).await.unwrap();
    assert_eq!((diff.next, diff.lines, diff.added), (2, 3, 2));
    s.directory_commit(g1, "ps").await.unwrap();
    let p = s
        .directory_professional("810001045367")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.identity.last_name.as_deref(), Some("DUPONT"));
    let sites: Vec<_> = p
        .sites
        .iter()
        .map(|site| site.structure_name.clone().unwrap())
        .collect();
    assert_eq!(sites, ["Clinique A", "Hôpital C"]);

    // Same professionals, one activity moved: one changed, none added or removed. The same
    // activities in another order are not a change.
    let g2 = s
        .directory_begin(DirectorySet::Professionals)
        .await
        .unwrap();
    s.directory_write(
        g2,
        DirectoryRows::Activities(vec![
            activity("810001045367", "DUPONT", "Hôpital C"),
            activity("810001045367", "DUPONT", "Clinique A"),
            activity("0012600631", "MARTIN", "Cabinet D"),
        ]),
    )
    .await
    .unwrap();
    let diff = s.directory_diff(g2, 10).await.unwrap();
    assert_eq!((diff.added, diff.removed, diff.changed), (0, 0, 1));
    assert_eq!(diff.changed_sample, ["0012600631"]);
    s.directory_commit(g2, "ps2").await.unwrap();
    assert_eq!(db.count("directory_activities").await, 3);
    assert_eq!(db.count("directory_professionals").await, 2);
    assert!(
        s.directory_professional("899999999999")
            .await
            .unwrap()
            .is_none()
    );
}

async fn red_list_of_our_mailboxes(db: Db) {
    let s = &*db.store;
    s.set_red_listed(&addr("Secret@x.mssante.fr"), true)
        .await
        .unwrap();
    s.set_red_listed(&addr("b@x.mssante.fr"), true)
        .await
        .unwrap();
    s.set_red_listed(&addr("b@x.mssante.fr"), true)
        .await
        .unwrap();
    assert_eq!(
        s.red_listed().await.unwrap(),
        ["b@x.mssante.fr", "secret@x.mssante.fr"]
    );
    s.set_red_listed(&addr("B@x.mssante.fr"), false)
        .await
        .unwrap();
    assert_eq!(s.red_listed().await.unwrap(), ["secret@x.mssante.fr"]);
}

contract_tests!(
    generations_replace_each_other_atomically_with_a_diff,
    discard_and_interrupted_imports_leave_the_directory_in_force,
    professionals_gather_their_activities,
    red_list_of_our_mailboxes,
);
