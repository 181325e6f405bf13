//! Imports of generated extraction files with the real headers: exact counts, safety rules,
//! atomic replacement, diff kept, zip, Latin-1 and empty files.

mod common;

use std::path::{Path, PathBuf};

use common::generate::{
    CORRESPONDANCE_HEADER, PERSONNE_HEADER, columns, line, mailbox_values, rpps,
    write_correspondance, write_zip,
};
use mssd_annuaire::extraction::{ProgressMode, diff_document, report_document};
use mssd_annuaire::{Directory, Error, ImportOptions, ImportReport, import_file};
use mssd_core::Address;
use mssd_store::{DirectorySet, DirectoryStore, SqliteOptions, SqliteStore, Store};

struct Env {
    dir: tempfile::TempDir,
    store: SqliteStore,
}

fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("mssd.db"), SqliteOptions::default()).unwrap();
    Env { dir, store }
}

impl Env {
    fn file(&self, name: &str, content: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    async fn import(&self, path: &Path, force: bool) -> Result<ImportReport, Error> {
        let options = ImportOptions {
            force,
            progress: ProgressMode::Off,
            chunk_rows: 3, // several chunks even for small files
            ..ImportOptions::default()
        };
        import_file(&self.store, path, &options).await
    }

    async fn entries(&self, set: DirectorySet) -> Option<u64> {
        let status = self.store.directory_status().await.unwrap();
        status.iter().find(|s| s.set == set).map(|s| s.entries)
    }
}

/// Reordered columns, an extra unknown column, duplicates, malformed and blank lines.
fn messy_correspondance() -> String {
    let mut cols = columns(CORRESPONDANCE_HEADER);
    cols.reverse();
    cols.insert(3, "Colonne ajoutée en 2031".to_owned());
    let mut lines = vec![cols.join("|")];
    for i in 2..7 {
        lines.push(line(&cols, &mailbox_values(i))); // lines 2..=6: five PER mailboxes
    }
    // Line 7: duplicate of mailbox 2, another case, with a service the first lacks.
    let mut dup = mailbox_values(2);
    dup.retain(|(n, _)| *n != "Adresse BAL");
    dup.push(("Adresse BAL", "BAL.2@etab-2.mssante.fr".to_owned()));
    dup.push(("Service de rattachement", "Cardiologie".to_owned()));
    lines.push(line(&cols, &dup));
    lines.push(String::new()); // line 8: blank
    lines.push("PER|too|few".to_owned()); // line 9: wrong field count
    let mut bad_address = mailbox_values(20);
    bad_address.retain(|(n, _)| *n != "Adresse BAL");
    bad_address.push(("Adresse BAL", "not-an-address".to_owned()));
    lines.push(line(&cols, &bad_address)); // line 10
    let mut bad_id = mailbox_values(21);
    bad_id.retain(|(n, _)| *n != "Identification nationale PP");
    bad_id.push(("Identification nationale PP", "812345678901".to_owned()));
    lines.push(line(&cols, &bad_id)); // line 11: Luhn fails
    lines.push(line(&cols, &mailbox_values(2))); // line 12: exact duplicate
    lines.join("\r\n") + "\r\n"
}

fn check_messy_report(r: &ImportReport) {
    assert_eq!(r.file.as_str(), "Extraction_Correspondance_MSSante");
    assert_eq!(
        (
            r.counts.lines,
            r.counts.blank_lines,
            r.counts.accepted,
            r.counts.malformed
        ),
        (10, 1, 7, 3)
    );
    assert_eq!((r.entries, r.merged), (5, 2));
    let malformed: Vec<(u64, &str)> = r
        .counts
        .malformed_lines
        .iter()
        .map(|m| (m.line, m.reason.as_str()))
        .collect();
    assert_eq!(malformed[0], (9, "expected 32 fields, found 3"));
    assert_eq!(malformed[1].0, 10);
    assert!(
        malformed[1].1.starts_with("bad Adresse BAL"),
        "{}",
        malformed[1].1
    );
    assert_eq!(malformed[2].0, 11);
    assert!(malformed[2].1.contains("Luhn"), "{}", malformed[2].1);
    assert_eq!(
        (
            r.diff.previous,
            r.diff.next,
            r.diff.added,
            r.diff.removed,
            r.diff.changed
        ),
        (0, 5, 5, 0, 0)
    );
    assert!(r.replaced && !r.forced && r.refused.is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn messy_file_imports_with_exact_counts() {
    let env = env();
    let path = env.file(
        "Extraction_Correspondance_MSSante_202501010000.txt",
        messy_correspondance().as_bytes(),
    );
    let report = env.import(&path, false).await.unwrap();
    check_messy_report(&report);

    let merged = env
        .store
        .directory_mailbox(&Address::parse("bal.2@etab-2.mssante.fr").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(merged.service.as_deref(), Some("Cardiologie"));
    assert_eq!(merged.id_nat_ps, Some(format!("8{}", rpps(2))));
    assert_eq!(merged.first_name.as_deref(), Some("Jean"));

    // The report and the diff are kept in the store.
    let kept = env
        .store
        .document(&report_document(DirectorySet::Mailboxes))
        .await
        .unwrap()
        .unwrap();
    let kept: ImportReport = serde_json::from_slice(&kept).unwrap();
    assert_eq!(kept.counts.malformed, 3);
    let diff = env
        .store
        .document(&diff_document(DirectorySet::Mailboxes))
        .await
        .unwrap()
        .unwrap();
    let diff: serde_json::Value = serde_json::from_slice(&diff).unwrap();
    assert_eq!(diff["added"], 5);
    assert_eq!(diff["added_sample"][0], "bal.2@etab-2.mssante.fr");

    // The lookup index sees the new directory.
    let directory = Directory::load(&env.store).await.unwrap();
    assert_eq!(directory.len(), 5);
    let hits = directory.lookup(&rpps(3), 10);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].address(), "bal.3@etab-3.mssante.fr");
}

#[tokio::test(flavor = "multi_thread")]
async fn zipped_file_gives_the_same_counts() {
    let env = env();
    let path = env
        .dir
        .path()
        .join("Extraction_Correspondance_MSSante_202501010000.zip");
    write_zip(
        &path,
        "Extraction_Correspondance_MSSante_202501010000.txt",
        messy_correspondance().as_bytes(),
    );
    let report = env.import(&path, false).await.unwrap();
    check_messy_report(&report);
    assert_eq!(env.entries(DirectorySet::Mailboxes).await, Some(5));

    let empty_zip = env.dir.path().join("other.zip");
    write_zip(&empty_zip, "README.md", b"no extraction here");
    let err = env.import(&empty_zip, false).await.unwrap_err();
    assert!(err.to_string().contains("holds no .txt entry"), "{err}");
}

/// A zip of a few hundred KB expanding to 64 MiB, and a file of too many lines: refused
/// at the cap, quickly, naming it; the directory in force is kept.
#[tokio::test(flavor = "multi_thread")]
async fn zip_bombs_and_endless_files_are_refused_at_the_caps() {
    let env = env();
    let good = env.dir.path().join("good.txt");
    write_correspondance(&good, 10);
    env.import(&good, false).await.unwrap();

    let header = messy_correspondance().lines().next().unwrap().to_owned();
    let mut content = format!("{header}\r\n").into_bytes();
    content.resize(content.len() + (64 << 20), b'\n');
    let bomb = env
        .dir
        .path()
        .join("Extraction_Correspondance_MSSante_202601010000.zip");
    write_zip(
        &bomb,
        "Extraction_Correspondance_MSSante_202601010000.txt",
        &content,
    );
    assert!(std::fs::metadata(&bomb).unwrap().len() < 1 << 20);
    let capped = |max_bytes: u64, max_lines: u64| ImportOptions {
        progress: ProgressMode::Off,
        max_bytes,
        max_lines,
        ..ImportOptions::default()
    };
    let started = std::time::Instant::now();
    let err = import_file(&env.store, &bomb, &capped(8 << 20, 1 << 40))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("holds more than 8388608 bytes once decompressed"),
        "{err}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));

    let long = env.dir.path().join("long.txt");
    write_correspondance(&long, 1_000);
    let err = import_file(&env.store, &long, &capped(1 << 40, 100))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("more than 100 lines"), "{err}");
    assert_eq!(env.entries(DirectorySet::Mailboxes).await, Some(10));
}

#[tokio::test(flavor = "multi_thread")]
async fn latin1_file_is_refused_and_the_directory_kept() {
    let env = env();
    let good = env.dir.path().join("good.txt");
    write_correspondance(&good, 10);
    env.import(&good, false).await.unwrap();

    let text = messy_correspondance();
    let latin1: Vec<u8> = text
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect();
    let path = env.file("latin1.txt", &latin1);
    let err = env.import(&path, true).await.unwrap_err();
    // The header's "Prénom d'exercice" is already Latin-1.
    assert!(matches!(err, Error::Latin1 { line: 1 }), "{err}");
    assert!(err.to_string().contains("iconv -f latin1 -t utf8"), "{err}");
    // A Latin-1 line further down stops the import too, after the good lines.
    let mut late = format!("{}\n", CORRESPONDANCE_HEADER.trim_end()).into_bytes();
    late.extend(line(&columns(CORRESPONDANCE_HEADER), &mailbox_values(1)).bytes());
    late.extend(b"\nORG|x@y.mssante.fr|||||||||Caf\xe9\n");
    let path = env.file("late.txt", &late);
    let err = env.import(&path, true).await.unwrap_err();
    assert!(matches!(err, Error::Latin1 { line: 3 }), "{err}");
    assert_eq!(env.entries(DirectorySet::Mailboxes).await, Some(10));
}

#[tokio::test(flavor = "multi_thread")]
async fn empty_files_are_refused_unless_forced() {
    let env = env();
    let good = env.dir.path().join("good.txt");
    write_correspondance(&good, 10);
    env.import(&good, false).await.unwrap();

    let zero = env.file("zero.txt", b"");
    let err = env.import(&zero, true).await.unwrap_err();
    assert!(matches!(err, Error::EmptyFile { .. }), "{err}");

    let header_only = env.file("header.txt", CORRESPONDANCE_HEADER.as_bytes());
    let err = env.import(&header_only, false).await.unwrap_err();
    let Error::Refused { reason, report } = err else {
        panic!("{err}")
    };
    assert!(reason.contains("no valid entry"), "{reason}");
    assert_eq!(
        (report.counts.lines, report.entries, report.diff.removed),
        (0, 0, 10)
    );
    assert!(!report.replaced);
    assert_eq!(env.entries(DirectorySet::Mailboxes).await, Some(10));
    // The refusal is recorded as the last import.
    let kept = env
        .store
        .document(&report_document(DirectorySet::Mailboxes))
        .await
        .unwrap()
        .unwrap();
    let kept: ImportReport = serde_json::from_slice(&kept).unwrap();
    assert!(kept.refused.is_some());

    let forced = env.import(&header_only, true).await.unwrap();
    assert!(forced.replaced && forced.forced);
    assert_eq!(env.entries(DirectorySet::Mailboxes).await, Some(0));

    let unknown = env.file("unknown.txt", b"a|b|c\n1|2|3\n");
    let err = env.import(&unknown, true).await.unwrap_err();
    assert!(matches!(err, Error::UnknownHeader { .. }), "{err}");
    let missing = env.file(
        "missing.txt",
        b"Type de BAL|Adresse BAL\nPER|a@b.mssante.fr\n",
    );
    let err = env.import(&missing, true).await.unwrap_err();
    assert!(
        err.to_string().contains("Identification nationale PP"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn large_removals_are_refused_unless_forced() {
    let env = env();
    let path = env.dir.path().join("x.txt");
    write_correspondance(&path, 40);
    env.import(&path, false).await.unwrap();

    // 38 of 40: 5 % removed, accepted.
    write_correspondance(&path, 38);
    let r = env.import(&path, false).await.unwrap();
    assert_eq!(
        (
            r.diff.previous,
            r.diff.removed,
            r.diff.added,
            r.diff.changed
        ),
        (40, 2, 0, 0)
    );

    // 30 of 38: 21 % removed, refused; the 38 stay in force.
    write_correspondance(&path, 30);
    let err = env.import(&path, false).await.unwrap_err();
    let Error::Refused { reason, report } = err else {
        panic!("{err}")
    };
    assert!(
        reason.contains("remove 8 of 38 entries (21.1 %)"),
        "{reason}"
    );
    assert_eq!(report.diff.removed_sample.len(), 8);
    assert_eq!(env.entries(DirectorySet::Mailboxes).await, Some(38));
    let gone = Address::parse("bal.35@etab-35.mssante.fr").unwrap();
    assert!(env.store.directory_mailbox(&gone).await.unwrap().is_some());

    let r = env.import(&path, true).await.unwrap();
    assert!(r.forced && r.replaced);
    assert_eq!(env.entries(DirectorySet::Mailboxes).await, Some(30));
    assert!(env.store.directory_mailbox(&gone).await.unwrap().is_none());
    let diff = env
        .store
        .document(&diff_document(DirectorySet::Mailboxes))
        .await
        .unwrap()
        .unwrap();
    let diff: serde_json::Value = serde_json::from_slice(&diff).unwrap();
    assert_eq!(diff["removed"], 8);
}

#[tokio::test(flavor = "multi_thread")]
async fn personne_activite_file_gathers_activities() {
    let env = env();
    let cols = columns(PERSONNE_HEADER);
    let mut text = format!("{}\n", PERSONNE_HEADER.trim_end());
    for i in 0..6 {
        // Three professionals, two activities each; trailing `|` like the real file.
        text.push_str(&format!(
            "{}|\n",
            line(&cols, &common::generate::activity_values(i))
        ));
    }
    text.push_str("8|1|81|\n"); // line 8: malformed
    let mut adeli = common::generate::activity_values(100);
    adeli.retain(|(n, _)| *n != "Identification nationale PP");
    adeli.push(("Identification nationale PP", "0012600631".to_owned()));
    text.push_str(&line(&cols, &adeli)); // line 9, no trailing `|` nor newline
    let path = env.file(
        "PS_LibreAcces_Personne_activite_202501010000.txt",
        text.as_bytes(),
    );
    let r = env.import(&path, false).await.unwrap();
    assert_eq!(r.file.as_str(), "PS_LibreAcces_Personne_activite");
    assert_eq!(
        (
            r.counts.lines,
            r.counts.accepted,
            r.counts.malformed,
            r.entries,
            r.merged
        ),
        (8, 7, 1, 4, 3)
    );
    assert_eq!(r.counts.malformed_lines[0].line, 8);
    assert_eq!(
        r.counts.malformed_lines[0].reason,
        "expected 52 fields, found 4"
    );
    let p = env
        .store
        .directory_professional(&format!("8{}", rpps(1)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.identity.first_name.as_deref(), Some("Jean"));
    assert_eq!(p.identity.profession.as_deref(), Some("Médecin"));
    let modes: Vec<_> = p
        .sites
        .iter()
        .map(|s| s.practice_mode.clone().unwrap())
        .collect();
    assert_eq!(modes, ["Libéral", "Salarié"]);
    assert!(
        env.store
            .directory_professional("0012600631")
            .await
            .unwrap()
            .is_some()
    );
    // The mailbox directory is a separate set, untouched.
    assert_eq!(env.entries(DirectorySet::Mailboxes).await, None);
    assert_eq!(env.entries(DirectorySet::Professionals).await, Some(4));
}
