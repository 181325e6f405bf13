//! RFC 5322 address lists parsed from the raw (unfolded) header value, keeping encoded words and
//! 8-bit text as sent: IMAP ENVELOPE carries the display name undecoded.

/// One mailbox: `adl` is the obsolete source route (`@a,@b`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MailboxAddress {
    pub name: Option<Vec<u8>>,
    pub adl: Option<Vec<u8>>,
    pub mailbox: Vec<u8>,
    pub host: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressItem {
    Mailbox(MailboxAddress),
    Group {
        name: Vec<u8>,
        members: Vec<MailboxAddress>,
    },
}

/// What Dovecot sends when an address lacks its local part or domain (host NIL would mean a group).
const MISSING_MAILBOX: &[u8] = b"MISSING_MAILBOX";
const MISSING_DOMAIN: &[u8] = b"MISSING_DOMAIN";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// An atom or a quoted string's content; `quoted` keeps the distinction for local parts.
    Word {
        text: Vec<u8>,
        quoted: bool,
    },
    Comment(Vec<u8>),
    Special(u8),
}

/// Parses an address list leniently: invalid pieces are skipped rather than failing the envelope.
pub fn parse_address_list(value: &[u8]) -> Vec<AddressItem> {
    let tokens = tokenize(value);
    let mut items = Vec::new();
    let mut at = 0;
    while at < tokens.len() {
        if tokens[at] == Token::Special(b',') {
            at += 1;
            continue;
        }
        let (item, next) = parse_address(&tokens, at, false);
        if let Some(item) = item {
            items.push(item);
        }
        at = next.max(at + 1);
    }
    items
}

/// Parses one address starting at `at`; returns it and the index after it.
fn parse_address(tokens: &[Token], at: usize, in_group: bool) -> (Option<AddressItem>, usize) {
    let mut phrase: Vec<Vec<u8>> = Vec::new();
    let mut last_comment: Option<Vec<u8>> = None;
    let mut i = at;
    while i < tokens.len() {
        match &tokens[i] {
            Token::Word { text, .. } => phrase.push(text.clone()),
            Token::Special(b'.') => phrase.push(b".".to_vec()),
            Token::Comment(text) => last_comment = Some(text.clone()),
            Token::Special(b':') if !in_group => {
                let name = join_phrase(&phrase);
                let (members, next) = parse_group_members(tokens, i + 1);
                return (Some(AddressItem::Group { name, members }), next);
            }
            Token::Special(b'<') => {
                let name = Some(join_phrase(&phrase)).filter(|n| !n.is_empty());
                let (mut mailbox, next) = parse_angle_addr(tokens, i + 1);
                mailbox.name = name.or(last_comment);
                return (Some(AddressItem::Mailbox(mailbox)), next);
            }
            Token::Special(b'@') | Token::Special(b',') | Token::Special(b';') => break,
            Token::Special(_) => {}
        }
        i += 1;
    }
    // No angle bracket: a bare addr-spec, possibly followed by a comment used as the name.
    let (mut mailbox, next) = parse_addr_spec(tokens, at);
    if mailbox.mailbox.is_empty() && mailbox.host.is_empty() {
        return (None, next);
    }
    fill_missing(&mut mailbox);
    (Some(AddressItem::Mailbox(mailbox)), next)
}

fn parse_group_members(tokens: &[Token], mut at: usize) -> (Vec<MailboxAddress>, usize) {
    let mut members = Vec::new();
    while at < tokens.len() {
        match tokens[at] {
            Token::Special(b';') => return (members, at + 1),
            Token::Special(b',') | Token::Comment(_) => at += 1,
            _ => {
                let (item, next) = parse_address(tokens, at, true);
                if let Some(AddressItem::Mailbox(mailbox)) = item {
                    members.push(mailbox);
                }
                at = next.max(at + 1);
            }
        }
    }
    (members, at)
}

/// After `<`: optional route `@a,@b:`, then the addr-spec, up to `>`.
fn parse_angle_addr(tokens: &[Token], mut at: usize) -> (MailboxAddress, usize) {
    let mut adl: Vec<u8> = Vec::new();
    if tokens.get(at) == Some(&Token::Special(b'@')) {
        let route_end = tokens[at..]
            .iter()
            .position(|t| matches!(t, Token::Special(b':') | Token::Special(b'>')))
            .map(|p| at + p);
        if let Some(end) = route_end.filter(|&end| tokens[end] == Token::Special(b':')) {
            for token in &tokens[at..end] {
                match token {
                    Token::Word { text, .. } => adl.extend_from_slice(text),
                    Token::Special(c) => adl.push(*c),
                    Token::Comment(_) => {}
                }
            }
            at = end + 1;
        }
    }
    let (mut mailbox, mut next) = parse_addr_spec(tokens, at);
    while next < tokens.len() && tokens[next] != Token::Special(b'>') {
        next += 1;
    }
    mailbox.adl = Some(adl).filter(|a| !a.is_empty());
    mailbox.name = None;
    fill_missing(&mut mailbox);
    (mailbox, (next + 1).min(tokens.len()))
}

/// local-part [@ domain], stopping at `,` `;` `>` or the end. A comment is kept as the name.
fn parse_addr_spec(tokens: &[Token], mut at: usize) -> (MailboxAddress, usize) {
    let mut mailbox = MailboxAddress::default();
    let mut in_domain = false;
    while at < tokens.len() {
        let target = if in_domain {
            &mut mailbox.host
        } else {
            &mut mailbox.mailbox
        };
        match &tokens[at] {
            Token::Special(b',' | b';' | b'>') => break,
            Token::Special(b'@') if !in_domain => in_domain = true,
            Token::Word { text, quoted } => {
                if *quoted {
                    target.push(b'"');
                    target.extend_from_slice(text);
                    target.push(b'"');
                } else {
                    target.extend_from_slice(text);
                }
            }
            Token::Special(c) => target.push(*c),
            Token::Comment(text) => {
                mailbox.name = Some(text.clone()).filter(|t| !t.is_empty());
            }
        }
        at += 1;
    }
    (mailbox, at)
}

fn fill_missing(mailbox: &mut MailboxAddress) {
    if mailbox.mailbox.is_empty() {
        mailbox.mailbox = MISSING_MAILBOX.to_vec();
    }
    if mailbox.host.is_empty() {
        mailbox.host = MISSING_DOMAIN.to_vec();
    }
}

fn join_phrase(words: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for (index, word) in words.iter().enumerate() {
        if index > 0 && word != b"." {
            out.push(b' ');
        }
        out.extend_from_slice(word);
    }
    out
}

fn tokenize(value: &[u8]) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < value.len() {
        let byte = value[i];
        match byte {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'(' => {
                let (text, next) = read_comment(value, i + 1);
                tokens.push(Token::Comment(text));
                i = next;
            }
            b'"' => {
                let (text, next) = read_quoted(value, i + 1);
                tokens.push(Token::Word { text, quoted: true });
                i = next;
            }
            b'<' | b'>' | b'@' | b',' | b';' | b':' | b'.' | b'[' | b']' => {
                tokens.push(Token::Special(byte));
                i += 1;
            }
            _ => {
                let start = i;
                while i < value.len() && !is_atom_end(value[i]) {
                    i += 1;
                }
                tokens.push(Token::Word {
                    text: value[start..i].to_vec(),
                    quoted: false,
                });
            }
        }
    }
    tokens
}

fn is_atom_end(byte: u8) -> bool {
    matches!(
        byte,
        b' ' | b'\t'
            | b'\r'
            | b'\n'
            | b'('
            | b'"'
            | b'<'
            | b'>'
            | b'@'
            | b','
            | b';'
            | b':'
            | b'.'
            | b'['
            | b']'
    )
}

/// Reads a quoted string's content after the opening quote, removing backslash escapes.
fn read_quoted(value: &[u8], mut i: usize) -> (Vec<u8>, usize) {
    let mut text = Vec::new();
    while i < value.len() {
        match value[i] {
            b'"' => return (text, i + 1),
            b'\\' if i + 1 < value.len() => {
                text.push(value[i + 1]);
                i += 2;
            }
            other => {
                text.push(other);
                i += 1;
            }
        }
    }
    (text, i)
}

/// Reads a (possibly nested) comment after the opening parenthesis.
fn read_comment(value: &[u8], mut i: usize) -> (Vec<u8>, usize) {
    let mut text = Vec::new();
    let mut depth = 1;
    while i < value.len() {
        match value[i] {
            b'\\' if i + 1 < value.len() => {
                text.push(value[i + 1]);
                i += 2;
                continue;
            }
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return (text, i + 1);
                }
            }
            _ => {}
        }
        text.push(value[i]);
        i += 1;
    }
    (text, i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mb(name: Option<&str>, adl: Option<&str>, mailbox: &str, host: &str) -> MailboxAddress {
        MailboxAddress {
            name: name.map(|n| n.as_bytes().to_vec()),
            adl: adl.map(|a| a.as_bytes().to_vec()),
            mailbox: mailbox.as_bytes().to_vec(),
            host: host.as_bytes().to_vec(),
        }
    }

    fn single(name: Option<&str>, mailbox: &str, host: &str) -> Vec<AddressItem> {
        vec![AddressItem::Mailbox(mb(name, None, mailbox, host))]
    }

    #[test]
    fn address_list_cases() {
        let cases: Vec<(&str, Vec<AddressItem>)> = vec![
            ("a@b.fr", single(None, "a", "b.fr")),
            ("<a@b.fr>", single(None, "a", "b.fr")),
            (
                "Jean Dupont <jean.dupont@chu.fr>",
                single(Some("Jean Dupont"), "jean.dupont", "chu.fr"),
            ),
            (
                "\"Dupont, Jean\" <j@chu.fr>",
                single(Some("Dupont, Jean"), "j", "chu.fr"),
            ),
            (
                "\"say \\\"hi\\\"\" <j@chu.fr>",
                single(Some("say \"hi\""), "j", "chu.fr"),
            ),
            (
                "=?UTF-8?Q?Ren=C3=A9?= <r@x.fr>",
                single(Some("=?UTF-8?Q?Ren=C3=A9?="), "r", "x.fr"),
            ),
            ("René Ça <r@x.fr>", single(Some("René Ça"), "r", "x.fr")),
            (
                "j@chu.fr (Jean Dupont)",
                single(Some("Jean Dupont"), "j", "chu.fr"),
            ),
            (
                "John Q. Public <jqp@x.org>",
                single(Some("John Q. Public"), "jqp", "x.org"),
            ),
            (
                "<@relay1.fr,@relay2.fr:j@chu.fr>",
                vec![AddressItem::Mailbox(mb(
                    None,
                    Some("@relay1.fr,@relay2.fr"),
                    "j",
                    "chu.fr",
                ))],
            ),
            (
                "a@b.fr, C <c@d.fr>",
                vec![
                    AddressItem::Mailbox(mb(None, None, "a", "b.fr")),
                    AddressItem::Mailbox(mb(Some("C"), None, "c", "d.fr")),
                ],
            ),
            ("postmaster", single(None, "postmaster", "MISSING_DOMAIN")),
            ("", vec![]),
            (" , ,", vec![]),
            (
                "Equipe soins: a@b.fr, B <b@c.fr>;, z@y.fr",
                vec![
                    AddressItem::Group {
                        name: b"Equipe soins".to_vec(),
                        members: vec![
                            mb(None, None, "a", "b.fr"),
                            mb(Some("B"), None, "b", "c.fr"),
                        ],
                    },
                    AddressItem::Mailbox(mb(None, None, "z", "y.fr")),
                ],
            ),
            (
                "undisclosed-recipients:;",
                vec![AddressItem::Group {
                    name: b"undisclosed-recipients".to_vec(),
                    members: vec![],
                }],
            ),
            ("\"j d\"@x.fr", single(None, "\"j d\"", "x.fr")),
            ("Broken <a@b.fr", single(Some("Broken"), "a", "b.fr")),
        ];
        for (input, want) in cases {
            assert_eq!(parse_address_list(input.as_bytes()), want, "{input}");
        }
    }
}
