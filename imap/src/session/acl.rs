//! ACL (RFC 4314) over mssd's grants. A mailbox's owner holds every right on its folders
//! (`lrswipkxtea`); a grant gives rights on every folder of a mailbox, in three tied groups:
//! read = `lr`, write = `swite` (with read), send = `p` (SMTP send-as, RFC 4314's "post").
//! The owner lists them (GETACL, LISTRIGHTS) and changes them (SETACL, DELETEACL, audited as
//! `mssd mailbox grant|revoke` are); a grantee sees its own rights (MYRIGHTS).
//!
//! imap-codec has no grammar for these commands: the input gate hands their lines over whole
//! (see `input_limits::Step::Extension`), parsed here. Their arguments are atoms or quoted
//! strings; a literal argument is not supported (the line then reaches imap-next: BAD).

use imap_next::imap_types::core::Tag;
use imap_next::imap_types::mailbox::Mailbox as ImapMailbox;
use mssd_core::Address;
use mssd_store::Rights;

use super::names::Target;
use super::responses::{bad, code, no, ok};
use super::{Flow, Session};

/// Every right: what an owner holds.
const OWNER_RIGHTS: &str = "lrswipkxtea";
const READ: &str = "lr";
const WRITE: &str = "swite";
const SEND: &str = "p";

/// The rights a grant gives, in RFC 4314 letters.
fn letters(rights: &Rights) -> String {
    let mut out = String::new();
    if rights.read || rights.write {
        out.push_str(READ);
    }
    if rights.write {
        out.push_str(WRITE);
    }
    if rights.send {
        out.push_str(SEND);
    }
    out
}

/// An IMAP quoted string (mailbox names and identifiers in responses).
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// The arguments of a command line after its tag and name: atoms or quoted strings.
fn arguments(line: &str) -> Option<(String, Vec<String>)> {
    let line = line.trim_end_matches(['\r', '\n']);
    let mut rest = line.split_once(' ')?.1;
    let (command, args) = rest.split_once(' ').unwrap_or((rest, ""));
    let command = command.to_ascii_uppercase();
    rest = args;
    let mut out = Vec::new();
    loop {
        rest = rest.trim_start_matches(' ');
        if rest.is_empty() {
            return Some((command, out));
        }
        if let Some(inner) = rest.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = inner.char_indices();
            let end = loop {
                match chars.next()? {
                    (i, '"') => break i,
                    (_, '\\') => value.push(chars.next()?.1),
                    (_, c) => value.push(c),
                }
            };
            out.push(value);
            rest = &inner[end + 1..];
        } else {
            let end = rest.find(' ').unwrap_or(rest.len());
            let atom = &rest[..end];
            if atom.bytes().any(|b| b"(){%*\"\\".contains(&b) || b < 0x20) {
                return None;
            }
            out.push(atom.to_owned());
            rest = &rest[end..];
        }
    }
}

/// SETACL's rights argument: what it asks for, as grant flags, or why not.
fn requested(rights: &str, current: Rights) -> Result<Rights, &'static str> {
    let (mode, letters) = match rights.as_bytes().first() {
        Some(b'+') => (1, &rights[1..]),
        Some(b'-') => (-1, &rights[1..]),
        _ => (0, rights),
    };
    let mut asked = Rights {
        read: false,
        write: false,
        send: false,
    };
    for c in letters.chars() {
        match c {
            'l' | 'r' => asked.read = true,
            's' | 'w' | 'i' | 't' | 'e' | 'c' | 'd' => asked.write = true,
            'p' => asked.send = true,
            'k' | 'x' | 'a' => {
                return Err("administer, create and delete rights stay with the owner");
            }
            '0'..='9' => {}
            _ => return Err("unknown right"),
        }
    }
    let mut rights = match mode {
        1 => Rights {
            read: current.read || asked.read,
            write: current.write || asked.write,
            send: current.send || asked.send,
        },
        -1 => Rights {
            read: current.read && !asked.read,
            write: current.write && !asked.write,
            send: current.send && !asked.send,
        },
        _ => asked,
    };
    // Tied groups: writing needs reading; no reading, no writing.
    if mode == -1 && !rights.read {
        rights.write = false;
    }
    if rights.write {
        rights.read = true;
    }
    Ok(rights)
}

impl Session<'_> {
    /// An extension command line handed over by the input gate.
    pub(crate) async fn extension(&mut self, tag: &Tag<'static>, line: &[u8]) -> Flow {
        if self.user.is_none() {
            self.send_status(bad(tag, None, "authentication first"));
            return Flow::Continue;
        }
        if crate::list_extended::parse(line).is_some() {
            self.list_extended(tag, line).await;
            return Flow::Continue;
        }
        let parsed = std::str::from_utf8(line).ok().and_then(arguments);
        let Some((command, args)) = parsed else {
            self.send_status(bad(tag, None, "cannot parse the arguments"));
            return Flow::Continue;
        };
        match (command.as_str(), args.as_slice()) {
            ("MYRIGHTS", [mailbox]) => self.myrights(tag, mailbox).await,
            ("GETACL", [mailbox]) => self.getacl(tag, mailbox).await,
            ("LISTRIGHTS", [mailbox, identifier]) => {
                self.listrights(tag, mailbox, identifier).await
            }
            ("SETACL", [mailbox, identifier, rights]) => {
                self.setacl(tag, mailbox, identifier, Some(rights)).await
            }
            ("DELETEACL", [mailbox, identifier]) => {
                self.setacl(tag, mailbox, identifier, None).await
            }
            _ => self.send_status(bad(tag, None, &format!("{command}: wrong arguments"))),
        }
        Flow::Continue
    }

    async fn acl_target(&mut self, tag: &Tag<'static>, mailbox: &str) -> Option<Target> {
        let Ok(name) = ImapMailbox::try_from(mailbox.to_owned()) else {
            self.send_status(bad(tag, None, "invalid mailbox name"));
            return None;
        };
        self.target(tag, &name).await
    }

    /// The target when the user owns it (holds the `a` right); else NO [NOPERM].
    async fn administered(&mut self, tag: &Tag<'static>, mailbox: &str) -> Option<Target> {
        let target = self.acl_target(tag, mailbox).await?;
        if target.shared_from.is_some() {
            self.send_status(no(
                tag,
                Some(code("NOPERM")),
                "only the mailbox's owner administers its rights",
            ));
            return None;
        }
        Some(target)
    }

    async fn myrights(&mut self, tag: &Tag<'static>, mailbox: &str) {
        let Some(target) = self.acl_target(tag, mailbox).await else {
            return;
        };
        let rights = match &target.shared_from {
            None => OWNER_RIGHTS.to_owned(),
            Some(owner) => {
                let send = self
                    .grants()
                    .await
                    .into_iter()
                    .any(|(_, g)| &g.mailbox == owner && g.rights.send);
                letters(&Rights {
                    read: target.read,
                    write: target.write,
                    send,
                })
            }
        };
        let line = format!("* MYRIGHTS {} {rights}\r\n", quoted(mailbox));
        self.raw_line(&line).await;
        self.send_status(ok(tag, None, "MYRIGHTS completed"));
    }

    async fn getacl(&mut self, tag: &Tag<'static>, mailbox: &str) {
        if self.administered(tag, mailbox).await.is_none() {
            return;
        }
        let Some(owner) = self.user.as_ref().map(|u| u.mailbox.address.clone()) else {
            return;
        };
        let grants = match self.ctx.store.grants_on(&owner).await {
            Ok(grants) => grants,
            Err(e) => return self.store_failed(tag, &e),
        };
        let mut line = format!(
            "* ACL {} {} {OWNER_RIGHTS}",
            quoted(mailbox),
            quoted(owner.as_str())
        );
        for grant in grants {
            line.push_str(&format!(
                " {} {}",
                quoted(grant.grantee.as_str()),
                letters(&grant.rights)
            ));
        }
        line.push_str("\r\n");
        self.raw_line(&line).await;
        self.send_status(ok(tag, None, "GETACL completed"));
    }

    async fn listrights(&mut self, tag: &Tag<'static>, mailbox: &str, identifier: &str) {
        if self.administered(tag, mailbox).await.is_none() {
            return;
        }
        let owner = self
            .user
            .as_ref()
            .map(|u| u.mailbox.address.as_str().to_owned());
        let groups = if owner
            .as_deref()
            .is_some_and(|o| o.eq_ignore_ascii_case(identifier))
        {
            OWNER_RIGHTS.to_owned()
        } else {
            format!("\"\" {READ} {WRITE} {SEND}")
        };
        let line = format!(
            "* LISTRIGHTS {} {} {groups}\r\n",
            quoted(mailbox),
            quoted(identifier)
        );
        self.raw_line(&line).await;
        self.send_status(ok(tag, None, "LISTRIGHTS completed"));
    }

    /// SETACL (`rights` Some) or DELETEACL: the grant of `identifier` on the user's mailbox.
    async fn setacl(
        &mut self,
        tag: &Tag<'static>,
        mailbox: &str,
        identifier: &str,
        rights: Option<&String>,
    ) {
        if self.administered(tag, mailbox).await.is_none() {
            return;
        }
        let Some(owner) = self.user.as_ref().map(|u| u.mailbox.address.clone()) else {
            return;
        };
        let Ok(grantee) = Address::parse(identifier) else {
            self.send_status(no(
                tag,
                Some(code("CANNOT")),
                "identifiers are mailbox addresses",
            ));
            return;
        };
        if grantee == owner {
            self.send_status(no(
                tag,
                Some(code("CANNOT")),
                "the owner's rights cannot change",
            ));
            return;
        }
        let current = match self.ctx.store.grants_on(&owner).await {
            Ok(grants) => grants
                .into_iter()
                .find(|g| g.grantee == grantee)
                .map(|g| g.rights),
            Err(e) => return self.store_failed(tag, &e),
        };
        let none = Rights {
            read: false,
            write: false,
            send: false,
        };
        let wanted = match rights {
            None => none,
            Some(rights) => match requested(rights, current.unwrap_or(none)) {
                Ok(wanted) => wanted,
                Err(why) => {
                    self.send_status(no(tag, Some(code("CANNOT")), why));
                    return;
                }
            },
        };
        let outcome = if wanted.read || wanted.write || wanted.send {
            self.ctx.store.grant(&owner, &grantee, wanted).await
        } else if current.is_some() {
            self.ctx.store.revoke(&owner, &grantee).await
        } else {
            Ok(())
        };
        if let Err(e) = outcome {
            return self.store_failed(tag, &e);
        }
        self.audit(
            "imap.acl.set",
            owner.as_str().to_owned(),
            "ok",
            serde_json::json!({"grantee": grantee.as_str(), "rights": letters(&wanted)}),
        )
        .await;
        let done = if rights.is_some() {
            "SETACL completed"
        } else {
            "DELETEACL completed"
        };
        self.send_status(ok(tag, None, done));
    }

    /// An untagged response written as it is, after everything queued before it.
    async fn raw_line(&mut self, line: &str) {
        if let Ok(out) = self.wire.raw_buffer().await {
            out.extend_from_slice(line.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A command name and its arguments.
    type Parsed<'a> = Option<(&'a str, &'a [&'a str])>;

    #[test]
    fn argument_lines() {
        let cases: [(&str, Parsed<'_>); 6] = [
            ("a MYRIGHTS INBOX\r\n", Some(("MYRIGHTS", &["INBOX"]))),
            (
                "a setacl \"Shared/x y\" bob@b.test +lr\r\n",
                Some(("SETACL", &["Shared/x y", "bob@b.test", "+lr"])),
            ),
            ("a GETACL \"q\\\"uote\"\r\n", Some(("GETACL", &["q\"uote"]))),
            ("a GETACL \"unterminated\r\n", None),
            ("a GETACL (x)\r\n", None),
            ("a DELETEACL\r\n", Some(("DELETEACL", &[]))),
        ];
        for (line, expected) in cases {
            let got = arguments(line);
            let expected =
                expected.map(|(c, a)| (c.to_owned(), a.iter().map(|s| s.to_string()).collect()));
            assert_eq!(got, expected, "{line:?}");
        }
    }

    #[test]
    fn setacl_rights() {
        let none = Rights {
            read: false,
            write: false,
            send: false,
        };
        let read = Rights { read: true, ..none };
        let all = Rights {
            read: true,
            write: true,
            send: true,
        };
        let cases: [(&str, Rights, Result<Rights, ()>); 8] = [
            ("lr", none, Ok(read)),
            (
                "lrswite",
                none,
                Ok(Rights {
                    write: true,
                    ..read
                }),
            ),
            (
                "w",
                none,
                Ok(Rights {
                    write: true,
                    ..read
                }),
            ),
            ("+p", read, Ok(Rights { send: true, ..read })),
            ("-r", all, Ok(Rights { send: true, ..none })),
            (
                "-w",
                all,
                Ok(Rights {
                    write: false,
                    ..all
                }),
            ),
            ("", all, Ok(none)),
            ("lra", none, Err(())),
        ];
        for (asked, current, expected) in cases {
            assert_eq!(
                requested(asked, current).map_err(|_| ()),
                expected,
                "{asked}"
            );
        }
        assert_eq!(letters(&all), "lrswitep");
        assert!(requested("lrZ", none).is_err());
    }
}
