//! Folder names as clients see them, and what they point at.
//!
//! The personal namespace is the user's own folders ("INBOX", "Sent", "Projets/2026"); the
//! shared namespace is "Shared/<address>" for the INBOX of a mailbox granted to the user and
//! "Shared/<address>/<folder>" for its other folders. The hierarchy delimiter is '/'.

use imap_next::imap_types::core::{AString, IString};
use imap_next::imap_types::extensions::utf8::QuotedUtf8;
use imap_next::imap_types::mailbox::Mailbox as ImapMailbox;
use mssd_core::Address;
#[cfg(test)]
use mssd_store::Rights;
use mssd_store::{Folder, Grant, MailboxId};

pub(crate) const DELIMITER: char = '/';
pub(crate) const SHARED_PREFIX: &str = "Shared";

/// A folder name resolved against the user's own and granted mailboxes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub owner: MailboxId,
    /// The owner's address when the folder belongs to a granted (shared) mailbox.
    pub shared_from: Option<Address>,
    /// The folder's name inside its mailbox ("INBOX", "Sent"...).
    pub folder: String,
    /// The name as the client sees it.
    pub display: String,
    pub read: bool,
    pub write: bool,
}

/// Why a name resolves to nothing the user may open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NameError {
    /// Not valid UTF-8 or empty.
    Invalid,
    /// "Shared/x" where x is not granted to the user (reported as nonexistent: a grant's
    /// absence must not reveal whether the mailbox exists).
    NotGranted,
    /// "Shared" itself: a container, not a folder.
    Container,
}

/// The text of an IMAP mailbox name as stored (modified UTF-7; `utf8` when the client sends
/// UTF-8, IMAP4rev2); INBOX in any case is "INBOX".
pub(crate) fn mailbox_name(mailbox: &ImapMailbox<'_>, utf8: bool) -> Result<String, NameError> {
    match mailbox {
        ImapMailbox::Inbox => Ok("INBOX".into()),
        ImapMailbox::Other(other) => {
            let name = std::str::from_utf8(other.as_ref()).map_err(|_| NameError::Invalid)?;
            // An IMAP4rev1 client should send modified UTF-7; one that sends UTF-8 anyway is
            // read as UTF-8 too, so the store only ever holds modified UTF-7.
            let encoded;
            let name = if utf8 || !name.is_ascii() {
                encoded = crate::mutf7::encode(name);
                encoded.as_str()
            } else {
                name
            };
            let name = name.trim_end_matches(DELIMITER);
            if name.is_empty() {
                return Err(NameError::Invalid);
            }
            Ok(normalize_inbox(name))
        }
    }
}

/// "inbox" and "Inbox/x" name the INBOX (RFC 3501 5.1: INBOX is case-insensitive).
fn normalize_inbox(name: &str) -> String {
    match name.split_once(DELIMITER) {
        Some((first, rest)) if first.eq_ignore_ascii_case("INBOX") => format!("INBOX/{rest}"),
        None if name.eq_ignore_ascii_case("INBOX") => "INBOX".into(),
        _ => name.to_owned(),
    }
}

/// A stored name as the client reads it: as stored, or in UTF-8 (`utf8`, IMAP4rev2).
pub(crate) fn to_imap(name: &str, utf8: bool) -> ImapMailbox<'static> {
    // Decoded even when ASCII: "R&-D" is shown "R&D", which the client sends back as such.
    let decoded = if utf8 {
        crate::mutf7::decode(name)
    } else {
        None
    };
    if let Some(text) = decoded.as_ref().filter(|t| !t.is_ascii())
        && let Ok(quoted) = QuotedUtf8::try_from(text.clone())
    {
        return ImapMailbox::from(AString::String(IString::QuotedUtf8(quoted)));
    }
    let shown = decoded.unwrap_or_else(|| name.to_owned());
    match AString::try_from(shown) {
        Ok(astring) => ImapMailbox::from(astring),
        Err(_) => ImapMailbox::Inbox,
    }
}

/// Resolves a client-side name for `user` holding `grants`.
pub(crate) fn resolve(
    user: MailboxId,
    grants: &[(MailboxId, Grant)],
    name: &str,
) -> Result<Target, NameError> {
    let Some(rest) = strip_shared(name) else {
        return Ok(Target {
            owner: user,
            shared_from: None,
            folder: name.to_owned(),
            display: name.to_owned(),
            read: true,
            write: true,
        });
    };
    if rest.is_empty() {
        return Err(NameError::Container);
    }
    let (address, folder) = match rest.split_once(DELIMITER) {
        Some((address, folder)) => (address, normalize_inbox(folder)),
        None => (rest, "INBOX".to_owned()),
    };
    let (owner, grant) = grants
        .iter()
        .find(|(_, g)| g.mailbox.canonical().eq_ignore_ascii_case(address))
        .ok_or(NameError::NotGranted)?;
    if !grant.rights.read {
        return Err(NameError::NotGranted);
    }
    Ok(Target {
        owner: *owner,
        shared_from: Some(grant.mailbox.clone()),
        display: shared_name(&grant.mailbox, &folder),
        folder,
        read: true,
        write: grant.rights.write,
    })
}

/// "Shared/rest" (prefix in any case) -> Some("rest"); "Shared" -> Some("").
fn strip_shared(name: &str) -> Option<&str> {
    let head = name.get(..SHARED_PREFIX.len())?;
    if !head.eq_ignore_ascii_case(SHARED_PREFIX) {
        return None;
    }
    match name[SHARED_PREFIX.len()..].strip_prefix(DELIMITER) {
        Some(rest) => Some(rest),
        None if name.len() == SHARED_PREFIX.len() => Some(""),
        None => None,
    }
}

/// The client-side name of `folder` in the granted mailbox `owner`.
pub(crate) fn shared_name(owner: &Address, folder: &str) -> String {
    if folder == "INBOX" {
        format!("{SHARED_PREFIX}/{}", owner.canonical())
    } else {
        format!("{SHARED_PREFIX}/{}/{folder}", owner.canonical())
    }
}

/// One LIST line: a selectable folder or a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Listed {
    pub name: String,
    pub special_use: Option<String>,
    pub selectable: bool,
}

/// Every name the user can see: own folders, then "Shared" and the granted mailboxes' folders.
pub(crate) fn visible(own: &[Folder], shared: &[(Address, Vec<Folder>)]) -> Vec<Listed> {
    let mut names: Vec<Listed> = own
        .iter()
        .map(|f| Listed {
            name: f.name.clone(),
            special_use: f.special_use.clone(),
            selectable: true,
        })
        .collect();
    if !shared.is_empty() {
        names.push(Listed {
            name: SHARED_PREFIX.into(),
            special_use: None,
            selectable: false,
        });
    }
    for (owner, folders) in shared {
        names.extend(folders.iter().map(|f| Listed {
            name: shared_name(owner, &f.name),
            special_use: f.special_use.clone(),
            selectable: true,
        }));
    }
    names
}

/// Whether `name` has children among `all`.
pub(crate) fn has_children(name: &str, all: &[Listed]) -> bool {
    all.iter().any(|other| {
        other.name.len() > name.len() + 1
            && other.name.starts_with(name)
            && other.name[name.len()..].starts_with(DELIMITER)
    })
}

/// RFC 3501 6.3.8 LIST matching: `*` matches anything, `%` anything but the delimiter.
/// INBOX matches case-insensitively.
/// RFC 3501 6.3.9: with `%`, LSUB names the level the pattern reaches: with only "a/b/c"
/// subscribed, `LSUB "" "a/%"` returns "a/b" (flagged \Noselect by the caller), not nothing.
/// The parents of subscribed names that match `pattern` and are not subscribed themselves.
pub(crate) fn lsub_parents(pattern: &str, subscribed: &[String]) -> Vec<String> {
    if !pattern.contains('%') {
        return Vec::new();
    }
    let mut parents: Vec<String> = Vec::new();
    for name in subscribed {
        let mut end = 0;
        while let Some(at) = name[end..].find(DELIMITER) {
            end += at;
            let parent = &name[..end];
            if matches(pattern, parent)
                && !subscribed.iter().any(|s| s == parent)
                && !parents.iter().any(|p| p == parent)
            {
                parents.push(parent.to_owned());
            }
            end += DELIMITER.len_utf8();
        }
    }
    parents
}

pub(crate) fn matches(pattern: &str, name: &str) -> bool {
    let name = if name.eq_ignore_ascii_case("INBOX")
        && pattern.len() >= 5
        && pattern[..5].eq_ignore_ascii_case("INBOX")
    {
        format!("{}{}", &pattern[..5], &name[5..])
    } else {
        name.to_owned()
    };
    wildcard(pattern.as_bytes(), name.as_bytes())
}

/// `*` matches anything, `%` anything but the delimiter. Dynamic programming over (pattern
/// position, name position), so a pattern of many wildcards costs pattern × name steps, not
/// an exponential backtracking a client could ask for.
fn wildcard(pattern: &[u8], name: &[u8]) -> bool {
    // matches[j]: pattern[i..] matches name[j..], for the current i (from the end).
    let mut matches = vec![false; name.len() + 1];
    matches[name.len()] = true;
    for &p in pattern.iter().rev() {
        let mut next = vec![false; name.len() + 1];
        for j in (0..=name.len()).rev() {
            next[j] = match p {
                b'*' => matches[j] || (j < name.len() && next[j + 1]),
                b'%' => matches[j] || (j < name.len() && name[j] != DELIMITER as u8 && next[j + 1]),
                _ => j < name.len() && name[j] == p && matches[j + 1],
            };
        }
        matches = next;
    }
    matches[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Many wildcards against a long name: quick (backtracking took exponential time).
    #[test]
    fn wildcards_cost_pattern_times_name() {
        let pattern = "*a".repeat(30) + "b";
        let name = "a".repeat(200);
        let started = std::time::Instant::now();
        assert!(!matches(&pattern, &name));
        assert!(matches(&("*a".repeat(30) + "*"), &name));
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        let cases = [
            ("*", "a/b", true),
            ("%", "a/b", false),
            ("a/%", "a/b", true),
            ("a%", "abc", true),
            ("a/%/c", "a/b/c", true),
            ("a*c", "a/b/c", true),
            ("a%c", "a/b/c", false),
            ("", "", true),
            ("x", "", false),
        ];
        for (pattern, name, want) in cases {
            assert_eq!(matches(pattern, name), want, "{pattern} {name}");
        }
    }

    #[test]
    fn lsub_parents_table() {
        let subscribed = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        let cases: [(&str, &[&str], &[&str]); 6] = [
            ("a/%", &["a/b/c"], &["a/b"]),
            ("%", &["a/b/c"], &["a"]),
            ("a/%", &["a/b/c", "a/b"], &[]),
            ("a/*", &["a/b/c"], &[]),
            ("%/%", &["a/b/c", "x/y/z"], &["a/b", "x/y"]),
            ("b/%", &["a/b/c"], &[]),
        ];
        for (pattern, subs, expected) in cases {
            assert_eq!(
                lsub_parents(pattern, &subscribed(subs)),
                expected,
                "{pattern} {subs:?}"
            );
        }
    }

    fn grant(address: &str, read: bool, write: bool) -> (MailboxId, Grant) {
        (
            MailboxId(7),
            Grant {
                mailbox: Address::parse(address).unwrap(),
                grantee: Address::parse("user@hop.mssante.fr").unwrap(),
                rights: Rights {
                    read,
                    write,
                    send: false,
                },
                granted_at: 0,
            },
        )
    }

    #[test]
    fn names_resolve_to_own_or_granted_folders() {
        let grants = [grant("secretariat@hop.mssante.fr", true, false)];
        let me = MailboxId(1);
        type Expected = Result<(i64, &'static str, bool), NameError>;
        let cases: [(&str, Expected); 7] = [
            ("INBOX", Ok((1, "INBOX", true))),
            ("Projets/2026", Ok((1, "Projets/2026", true))),
            ("Shared/secretariat@hop.mssante.fr", Ok((7, "INBOX", false))),
            (
                "shared/Secretariat@hop.mssante.fr/Sent",
                Ok((7, "Sent", false)),
            ),
            ("Shared/other@hop.mssante.fr", Err(NameError::NotGranted)),
            ("Shared", Err(NameError::Container)),
            ("SharedStuff", Ok((1, "SharedStuff", true))),
        ];
        for (name, expected) in cases {
            let got = resolve(me, &grants, name).map(|t| (t.owner.0, t.folder.clone(), t.write));
            let expected = expected.map(|(o, f, w)| (o, f.to_owned(), w));
            assert_eq!(got, expected, "{name}");
        }
    }

    #[test]
    fn list_patterns() {
        let cases = [
            ("*", "Shared/a@b.fr/Sent", true),
            ("%", "Shared/a@b.fr", false),
            ("%", "Sent", true),
            ("Shared/%", "Shared/a@b.fr", true),
            ("Shared/%", "Shared/a@b.fr/Sent", false),
            ("inbox", "INBOX", true),
            ("S*t", "Sent", true),
            ("S*t", "Shared/a@b.fr/Draft", true),
            ("Drafts", "Sent", false),
            ("", "INBOX", false),
        ];
        for (pattern, name, expected) in cases {
            assert_eq!(matches(pattern, name), expected, "{pattern} vs {name}");
        }
    }

    /// IMAP4rev2 sessions read and write UTF-8; the stored name stays modified UTF-7.
    #[test]
    fn utf8_names_for_imap4rev2() {
        let stored = "Sant&AOk-/R&-D";
        let ascii = to_imap("R&-D", true);
        assert_eq!(
            mailbox_name(&ascii, true).unwrap(),
            "R&-D",
            "an ASCII name with &"
        );
        let shown = to_imap(stored, true);
        assert_eq!(mailbox_name(&shown, true).unwrap(), stored);
        let ImapMailbox::Other(other) = &shown else {
            panic!("not INBOX")
        };
        assert_eq!(other.as_ref(), "Santé/R&D".as_bytes());
        assert_eq!(
            mailbox_name(&to_imap(stored, false), false).unwrap(),
            stored
        );
        // Names that are not valid modified UTF-7 are shown as stored.
        let odd = to_imap("a&b", true);
        assert_eq!(mailbox_name(&odd, false).unwrap(), "a&b");
    }

    #[test]
    fn inbox_names_are_case_insensitive() {
        for (input, expected) in [
            ("inbox", "INBOX"),
            ("Inbox/a", "INBOX/a"),
            ("Sent/", "Sent"),
        ] {
            let mailbox = to_imap(input, false);
            assert_eq!(mailbox_name(&mailbox, false).unwrap(), expected, "{input}");
        }
    }
}
