//! LIST, basic (RFC 3501) and extended (RFC 5258 selection and return options, RFC 5819
//! LIST-STATUS, RFC 6154 SPECIAL-USE). A basic LIST is the extended one with no options:
//! one code path lists names. LSUB stays in `folders`.

use imap_codec::ResponseCodec;
use imap_codec::encode::Encoder;
use imap_next::imap_types::core::{Atom, QuotedChar, Tag};
use imap_next::imap_types::flag::FlagNameAttribute;
use imap_next::imap_types::mailbox::{ListMailbox, Mailbox as ImapMailbox};
use imap_next::imap_types::response::{Data, Response};
use mssd_store::Folder;

use super::Session;
use super::names::{self, DELIMITER, Listed};
use super::responses::{bad, ok};
use crate::list_extended::{ListCommand, Returns, Selection};

/// One `* LIST` line to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub name: String,
    pub attributes: Vec<&'static str>,
    /// The special-use attribute (`\Sent` …) of the folder, if any.
    pub special_use: Option<String>,
    /// RECURSIVEMATCH: listed because a descendant is subscribed (`CHILDINFO ("SUBSCRIBED")`).
    pub child_info: bool,
    /// A folder that exists and can be selected (LIST-STATUS reports on these only).
    pub selectable: bool,
}

impl Session<'_> {
    /// LIST as RFC 3501 has it: `LIST reference pattern`.
    pub(crate) async fn list_basic(
        &mut self,
        tag: &Tag<'static>,
        reference: ImapMailbox<'static>,
        wildcard: ListMailbox<'static>,
    ) {
        let (reference, pattern) = reference_and_pattern(&reference, &wildcard, self.utf8_names());
        let command = ListCommand {
            selection: Selection::default(),
            reference,
            patterns: vec![pattern],
            returns: Returns::default(),
            extended: false,
        };
        self.list_names(tag, command).await;
    }

    /// An extended LIST line the input gate handed over.
    pub(crate) async fn list_extended(&mut self, tag: &Tag<'static>, line: &[u8]) {
        match crate::list_extended::parse(line) {
            Some(Ok(mut command)) => {
                if self.utf8_names() {
                    // IMAP4rev2: UTF-8 patterns against the names as stored.
                    command.reference = crate::mutf7::encode(&command.reference);
                    for pattern in &mut command.patterns {
                        *pattern = crate::mutf7::encode(pattern);
                    }
                }
                self.list_names(tag, command).await
            }
            Some(Err(e)) => self.send_status(bad(tag, None, &e.to_string())),
            None => self.send_status(bad(tag, None, "LIST: cannot parse the arguments")),
        }
    }

    async fn list_names(&mut self, tag: &Tag<'static>, command: ListCommand) {
        if command.patterns.len() == 1
            && command.patterns[0].is_empty()
            && command.selection == Selection::default()
        {
            // RFC 3501 6.3.8: the hierarchy delimiter and root.
            let root = list_data(String::new(), vec![FlagNameAttribute::Noselect], false);
            self.send_data(root);
            self.send_status(ok(tag, None, "LIST completed"));
            return;
        }
        let all = match self.visible_folders().await {
            Ok(all) => all,
            Err(e) => return self.store_failed(tag, &e),
        };
        let subscriptions = if command.returns.subscribed {
            match self.ctx.store.subscriptions(self.user_id()).await {
                Ok(s) => s,
                Err(e) => return self.store_failed(tag, &e),
            }
        } else {
            Vec::new()
        };
        let patterns: Vec<String> = command
            .patterns
            .iter()
            .filter(|p| !p.is_empty())
            .map(|p| format!("{}{p}", command.reference))
            .collect();
        let listed = entries(&command, &patterns, &all, &subscriptions);
        let grants = match &command.returns.status {
            Some(_) => self.grants().await,
            None => Vec::new(),
        };
        let mut folders: Vec<(mssd_store::MailboxId, Vec<Folder>)> = Vec::new();
        for entry in listed {
            let status = entry.selectable && command.returns.status.is_some();
            if self.send_entry(&entry).await.is_err() {
                return;
            }
            let Some(items) = command.returns.status.as_ref().filter(|_| status) else {
                continue;
            };
            let Ok(target) = names::resolve(self.user_id(), &grants, &entry.name) else {
                continue;
            };
            if !folders.iter().any(|(owner, _)| *owner == target.owner) {
                match self.ctx.store.folders(target.owner).await {
                    Ok(list) => folders.push((target.owner, list)),
                    Err(e) => return self.store_failed(tag, &e),
                }
            }
            let folder = folders
                .iter()
                .find(|(owner, _)| *owner == target.owner)
                .and_then(|(_, list)| list.iter().find(|f| f.name == target.folder))
                .cloned();
            if let Some(folder) = folder {
                let data = self.status_data(&target, &folder, items).await;
                self.send_data(data);
            }
        }
        self.send_status(ok(tag, None, "LIST completed"));
    }

    /// IMAP4rev2 SELECT: the `* LIST` of the folder selected, with its attributes.
    pub(crate) async fn send_selected_list(&mut self, name: &str) {
        let all = match self.visible_folders().await {
            Ok(all) => all,
            Err(e) => {
                tracing::warn!(error = %e, "imap: listing the selected folder failed");
                return;
            }
        };
        let command = ListCommand {
            selection: Selection::default(),
            reference: String::new(),
            patterns: vec![name.to_owned()],
            returns: Returns::default(),
            extended: false,
        };
        let found = entries(&command, &command.patterns, &all, &[])
            .into_iter()
            .find(|e| e.name == name);
        if let Some(entry) = found {
            let _ = self.send_entry(&entry).await;
        }
    }

    /// One `* LIST`; with CHILDINFO written directly (imap-types has no extended data items).
    async fn send_entry(&mut self, entry: &Entry) -> Result<(), super::wire::WireError> {
        let mut attributes: Vec<FlagNameAttribute<'static>> = entry
            .attributes
            .iter()
            .filter_map(|a| attribute(a))
            .collect();
        if let Some(special) = &entry.special_use {
            attributes.extend(attribute(special.trim_start_matches('\\')));
        }
        let data = list_data(entry.name.clone(), attributes, self.utf8_names());
        if !entry.child_info {
            self.send_data(data);
            return Ok(());
        }
        let mut bytes = ResponseCodec::default()
            .encode(&Response::Data(data))
            .dump();
        if bytes.ends_with(b"\r\n") {
            bytes.truncate(bytes.len() - 2);
        }
        bytes.extend_from_slice(b" (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n");
        self.wire.raw_buffer().await?.extend_from_slice(&bytes);
        self.wire.flush_if_full().await
    }
}

/// What LIST returns for `command` (its `patterns` already prefixed by the reference), over
/// the names the user can see and its subscriptions, in listing order.
pub(crate) fn entries(
    command: &ListCommand,
    patterns: &[String],
    all: &[Listed],
    subscriptions: &[String],
) -> Vec<Entry> {
    let matched = |name: &str| patterns.iter().any(|p| names::matches(p, name));
    let subscribed = |name: &str| subscriptions.iter().any(|s| s == name);
    let entry_of = |name: &str, listed: Option<&Listed>| {
        let mut attributes = Vec::new();
        match listed {
            Some(listed) => {
                if !listed.selectable {
                    attributes.push("Noselect");
                }
                attributes.push(if names::has_children(name, all) {
                    "HasChildren"
                } else {
                    "HasNoChildren"
                });
            }
            None => attributes.push("NonExistent"),
        }
        if command.returns.subscribed && subscribed(name) {
            attributes.push("Subscribed");
        }
        Entry {
            name: name.to_owned(),
            attributes,
            special_use: listed.and_then(|l| l.special_use.clone()),
            child_info: false,
            selectable: listed.is_some_and(|l| l.selectable),
        }
    };
    let find = |name: &str| all.iter().find(|l| l.name == name);
    let mut out: Vec<Entry> = Vec::new();
    if !command.selection.subscribed {
        for listed in all {
            if matched(&listed.name)
                && (!command.selection.special_use || listed.special_use.is_some())
            {
                out.push(entry_of(&listed.name, Some(listed)));
            }
        }
        return out;
    }
    // SUBSCRIBED: existing names in listing order, then subscribed names that do not exist.
    let mut names: Vec<&str> = all.iter().map(|l| l.name.as_str()).collect();
    for name in subscriptions {
        if !names.contains(&name.as_str()) {
            names.push(name);
        }
    }
    if command.selection.recursive_match {
        // Parents of subscribed names, which RECURSIVEMATCH may list for their children.
        for name in subscriptions {
            for (at, _) in name.match_indices(DELIMITER) {
                let parent = &name[..at];
                if !names.contains(&parent) {
                    names.push(parent);
                }
            }
        }
    }
    for name in names {
        if !matched(name) {
            continue;
        }
        // RFC 5258 3.5: CHILDINFO tells of a subscribed descendant the patterns leave out.
        let child_info = command.selection.recursive_match
            && subscriptions.iter().any(|s| {
                s.len() > name.len()
                    && s.starts_with(name)
                    && s[name.len()..].starts_with(DELIMITER)
                    && !matched(s)
            });
        if !subscribed(name) && !child_info {
            continue;
        }
        let mut entry = entry_of(name, find(name));
        entry.child_info = child_info;
        out.push(entry);
    }
    out
}

fn attribute(name: &str) -> Option<FlagNameAttribute<'static>> {
    Atom::try_from(name.to_owned())
        .ok()
        .map(FlagNameAttribute::from)
}

/// `* LIST`, the name in UTF-8 when `utf8` (IMAP4rev2).
pub(crate) fn list_data(
    name: String,
    items: Vec<FlagNameAttribute<'static>>,
    utf8: bool,
) -> Data<'static> {
    Data::List {
        items,
        delimiter: QuotedChar::try_from(DELIMITER).ok(),
        mailbox: names::to_imap(&name, utf8),
    }
}

/// The reference and pattern of a basic LIST or LSUB, in the stored form of names.
pub(crate) fn reference_and_pattern(
    reference: &ImapMailbox<'_>,
    wildcard: &ListMailbox<'_>,
    utf8: bool,
) -> (String, String) {
    let reference = match reference {
        ImapMailbox::Inbox => "INBOX".to_owned(),
        ImapMailbox::Other(other) => String::from_utf8_lossy(other.as_ref()).into_owned(),
    };
    let pattern = match wildcard {
        ListMailbox::Token(token) => String::from_utf8_lossy(token.as_ref()).into_owned(),
        ListMailbox::String(s) => String::from_utf8_lossy(s.as_ref()).into_owned(),
    };
    if utf8 {
        (
            crate::mutf7::encode(&reference),
            crate::mutf7::encode(&pattern),
        )
    } else {
        (reference, pattern)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(name: &str, special_use: Option<&str>, selectable: bool) -> Listed {
        Listed {
            name: name.into(),
            special_use: special_use.map(Into::into),
            selectable,
        }
    }

    fn command(line: &str) -> ListCommand {
        crate::list_extended::parse(line.as_bytes())
            .expect("a LIST line")
            .expect("valid")
    }

    /// (name, attributes, child_info) of what `line` lists.
    fn lines(line: &str, subscriptions: &[&str]) -> Vec<(String, Vec<&'static str>, bool)> {
        let all = [
            listed("INBOX", None, true),
            listed("Sent", Some("\\Sent"), true),
            listed("Projects", None, true),
            listed("Projects/2026", None, true),
            listed("Projects/2026/Q4", None, true),
            listed("Shared", None, false),
        ];
        let command = command(line);
        let patterns: Vec<String> = command
            .patterns
            .iter()
            .map(|p| format!("{}{p}", command.reference))
            .collect();
        let subscriptions: Vec<String> = subscriptions.iter().map(|s| s.to_string()).collect();
        entries(&command, &patterns, &all, &subscriptions)
            .into_iter()
            .map(|e| (e.name, e.attributes, e.child_info))
            .collect()
    }

    fn names_of(lines: &[(String, Vec<&'static str>, bool)]) -> Vec<String> {
        lines.iter().map(|(n, _, _)| n.clone()).collect()
    }

    #[test]
    fn selection_and_return_options() {
        let subs = ["INBOX", "Projects/2026/Q4", "Gone"];
        let basic = lines("a LIST \"\" %", &subs);
        assert_eq!(names_of(&basic), ["INBOX", "Sent", "Projects", "Shared"]);
        assert_eq!(basic[2].1, ["HasChildren"]);
        assert_eq!(basic[3].1, ["Noselect", "HasNoChildren"]);

        let two = lines("a LIST \"\" (INBOX Sent)", &subs);
        assert_eq!(names_of(&two), ["INBOX", "Sent"]);

        let returned = lines("a LIST \"\" * RETURN (SUBSCRIBED)", &subs);
        assert_eq!(returned[0].1, ["HasNoChildren", "Subscribed"]);
        assert_eq!(returned[1].1, ["HasNoChildren"]);

        let subscribed = lines("a LIST (SUBSCRIBED) \"\" *", &subs);
        assert_eq!(names_of(&subscribed), ["INBOX", "Projects/2026/Q4", "Gone"]);
        assert_eq!(subscribed[2].1, ["NonExistent", "Subscribed"]);

        let recursive = lines("a LIST (SUBSCRIBED RECURSIVEMATCH) \"\" %", &subs);
        assert_eq!(names_of(&recursive), ["INBOX", "Projects", "Gone"]);
        assert!(!recursive[0].2);
        assert!(recursive[1].2, "CHILDINFO for Projects");
        assert_eq!(recursive[1].1, ["HasChildren"], "not subscribed itself");

        // A descendant the patterns list themselves needs no CHILDINFO on its parent.
        let both = lines(
            "a LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (Projects Projects/*)",
            &subs,
        );
        assert_eq!(names_of(&both), ["Projects/2026/Q4"]);
        assert!(!both[0].2);

        let without = lines("a LIST (SUBSCRIBED) \"\" %", &subs);
        assert_eq!(
            names_of(&without),
            ["INBOX", "Gone"],
            "no parents without RECURSIVEMATCH"
        );

        let special = lines("a LIST (SPECIAL-USE) \"\" *", &subs);
        assert_eq!(names_of(&special), ["Sent"]);

        let referenced = lines("a LIST Projects/ (% */Q4)", &subs);
        assert_eq!(names_of(&referenced), ["Projects/2026", "Projects/2026/Q4"]);
    }
}
