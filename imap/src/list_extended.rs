//! LIST-EXTENDED (RFC 5258) with LIST-STATUS (RFC 5819) and SPECIAL-USE (RFC 6154): the
//! command's grammar. imap-codec 2.0.0-alpha.10 has only an unfinished LIST-EXTENDED, so the
//! input gate hands an extended LIST line (selection options, several patterns, or RETURN)
//! over whole (see `input_limits::Step::Extension`) and the session answers it from what
//! this module parses. A basic LIST still goes to imap-codec. Arguments are atoms or quoted
//! strings; a literal argument is not supported (imap-codec then answers BAD).

use imap_next::imap_types::status::StatusDataItemName;

/// What `LIST (…)` selects.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Selection {
    pub subscribed: bool,
    pub remote: bool,
    pub recursive_match: bool,
    pub special_use: bool,
}

/// What `RETURN (…)` asks for beyond the names.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Returns {
    pub subscribed: bool,
    pub children: bool,
    pub special_use: bool,
    /// LIST-STATUS: a `* STATUS` after each selectable mailbox listed.
    pub status: Option<Vec<StatusDataItemName>>,
}

/// An extended LIST command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListCommand {
    pub selection: Selection,
    pub reference: String,
    pub patterns: Vec<String>,
    pub returns: Returns,
    /// Whether anything beyond RFC 3501's LIST was used (else imap-codec decodes it).
    pub extended: bool,
}

/// Why an extended LIST line is refused (answered BAD).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListError {
    Syntax(&'static str),
    UnknownOption(String),
    /// RFC 5258 3.1: RECURSIVEMATCH needs another selection option.
    RecursiveMatchAlone,
}

impl std::fmt::Display for ListError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ListError::Syntax(what) => write!(f, "LIST syntax: {what}"),
            ListError::UnknownOption(option) => write!(f, "LIST option {option} is not supported"),
            ListError::RecursiveMatchAlone => {
                f.write_str("RECURSIVEMATCH needs another selection option")
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Open,
    Close,
    /// An atom (`quoted` false) or a quoted string.
    Word {
        text: String,
        quoted: bool,
    },
}

/// Splits the arguments into tokens. None for a literal or a broken string.
fn tokens(mut rest: &str) -> Option<Vec<Token>> {
    let mut out = Vec::new();
    loop {
        rest = rest.trim_start_matches(' ');
        let Some(first) = rest.chars().next() else {
            return Some(out);
        };
        match first {
            '(' => {
                out.push(Token::Open);
                rest = &rest[1..];
            }
            ')' => {
                out.push(Token::Close);
                rest = &rest[1..];
            }
            '"' => {
                let mut text = String::new();
                let mut chars = rest[1..].char_indices();
                let end = loop {
                    match chars.next()? {
                        (i, '"') => break i,
                        (_, '\\') => text.push(chars.next()?.1),
                        (_, c) if c == '\r' || c == '\n' => return None,
                        (_, c) => text.push(c),
                    }
                };
                out.push(Token::Word { text, quoted: true });
                rest = &rest[end + 2..];
            }
            '{' => return None,
            _ => {
                let end = rest.find([' ', '(', ')']).unwrap_or(rest.len());
                let atom = &rest[..end];
                if atom.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
                    return None;
                }
                out.push(Token::Word {
                    text: atom.to_owned(),
                    quoted: false,
                });
                rest = &rest[end..];
            }
        }
    }
}

/// Parses `tag LIST …` (with or without CRLF). None when it is not a LIST line or cannot be
/// split into arguments; Some(Err) when it is an extended LIST we refuse.
pub fn parse(line: &[u8]) -> Option<Result<ListCommand, ListError>> {
    let line = std::str::from_utf8(line).ok()?;
    let line = line.trim_end_matches(['\r', '\n']);
    let (_tag, rest) = line.split_once(' ')?;
    let (command, rest) = rest.split_once(' ')?;
    if !command.eq_ignore_ascii_case("LIST") {
        return None;
    }
    let tokens = tokens(rest)?;
    Some(command_of(&tokens))
}

/// Whether `line` is a LIST only the extended grammar reads (the gate hands it over).
pub fn is_extended(line: &[u8]) -> bool {
    match parse(line) {
        Some(Ok(command)) => command.extended,
        // Refused options: answered by us, with a precise reason.
        Some(Err(ListError::UnknownOption(_) | ListError::RecursiveMatchAlone)) => true,
        Some(Err(ListError::Syntax(_))) | None => false,
    }
}

fn command_of(tokens: &[Token]) -> Result<ListCommand, ListError> {
    let mut at = 0;
    let mut extended = false;
    let mut selection = Selection::default();
    if tokens.first() == Some(&Token::Open) {
        extended = true;
        let (words, next) = parenthesized(tokens, 0)?;
        at = next;
        for word in words {
            match word.to_ascii_uppercase().as_str() {
                "SUBSCRIBED" => selection.subscribed = true,
                "REMOTE" => selection.remote = true,
                "RECURSIVEMATCH" => selection.recursive_match = true,
                "SPECIAL-USE" => selection.special_use = true,
                _ => return Err(ListError::UnknownOption(word)),
            }
        }
        if selection.recursive_match && !selection.subscribed && !selection.special_use {
            return Err(ListError::RecursiveMatchAlone);
        }
    }
    let reference = match tokens.get(at) {
        Some(Token::Word { text, .. }) => text.clone(),
        _ => return Err(ListError::Syntax("reference name expected")),
    };
    at += 1;
    let patterns = match tokens.get(at) {
        Some(Token::Word { text, .. }) => {
            at += 1;
            vec![text.clone()]
        }
        Some(Token::Open) => {
            extended = true;
            let (words, next) = parenthesized(tokens, at)?;
            at = next;
            if words.is_empty() {
                return Err(ListError::Syntax("empty list of patterns"));
            }
            words
        }
        _ => return Err(ListError::Syntax("mailbox pattern expected")),
    };
    let mut returns = Returns::default();
    match tokens.get(at) {
        None => {}
        Some(Token::Word {
            text,
            quoted: false,
        }) if text.eq_ignore_ascii_case("RETURN") => {
            extended = true;
            at = return_options(tokens, at + 1, &mut returns)?;
        }
        Some(_) => return Err(ListError::Syntax("RETURN or end of line expected")),
    }
    if at != tokens.len() {
        return Err(ListError::Syntax(
            "unexpected text after the return options",
        ));
    }
    // RFC 5258 3.1: the SUBSCRIBED selection implies the SUBSCRIBED return option.
    returns.subscribed |= selection.subscribed;
    Ok(ListCommand {
        selection,
        reference,
        patterns,
        returns,
        extended,
    })
}

/// `(word word …)` starting at `tokens[at]`: the words and where the list ends.
fn parenthesized(tokens: &[Token], at: usize) -> Result<(Vec<String>, usize), ListError> {
    if tokens.get(at) != Some(&Token::Open) {
        return Err(ListError::Syntax("( expected"));
    }
    let mut words = Vec::new();
    for (i, token) in tokens.iter().enumerate().skip(at + 1) {
        match token {
            Token::Word { text, .. } => words.push(text.clone()),
            Token::Close => return Ok((words, i + 1)),
            Token::Open => return Err(ListError::Syntax("unexpected (")),
        }
    }
    Err(ListError::Syntax("missing )"))
}

/// `(SUBSCRIBED CHILDREN SPECIAL-USE STATUS (…))` at `tokens[at]`; where it ends.
fn return_options(tokens: &[Token], at: usize, returns: &mut Returns) -> Result<usize, ListError> {
    if tokens.get(at) != Some(&Token::Open) {
        return Err(ListError::Syntax("( expected after RETURN"));
    }
    let mut i = at + 1;
    loop {
        match tokens.get(i) {
            Some(Token::Close) => return Ok(i + 1),
            Some(Token::Word { text, .. }) => match text.to_ascii_uppercase().as_str() {
                "SUBSCRIBED" => returns.subscribed = true,
                "CHILDREN" => returns.children = true,
                "SPECIAL-USE" => returns.special_use = true,
                "STATUS" => {
                    let (words, next) = parenthesized(tokens, i + 1)?;
                    let items = words
                        .iter()
                        .map(|w| status_item(w).ok_or_else(|| ListError::UnknownOption(w.clone())))
                        .collect::<Result<Vec<_>, _>>()?;
                    if items.is_empty() {
                        return Err(ListError::Syntax("STATUS needs at least one item"));
                    }
                    returns.status = Some(items);
                    i = next;
                    continue;
                }
                _ => return Err(ListError::UnknownOption(text.clone())),
            },
            Some(Token::Open) => return Err(ListError::Syntax("unexpected (")),
            None => return Err(ListError::Syntax("missing ) after the return options")),
        }
        i += 1;
    }
}

fn status_item(word: &str) -> Option<StatusDataItemName> {
    Some(match word.to_ascii_uppercase().as_str() {
        "MESSAGES" => StatusDataItemName::Messages,
        "RECENT" => StatusDataItemName::Recent,
        "UIDNEXT" => StatusDataItemName::UidNext,
        "UIDVALIDITY" => StatusDataItemName::UidValidity,
        "UNSEEN" => StatusDataItemName::Unseen,
        "HIGHESTMODSEQ" => StatusDataItemName::HighestModSeq,
        "DELETED" => StatusDataItemName::Deleted,
        "SIZE" => StatusDataItemName::Size,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(line: &str) -> Result<ListCommand, ListError> {
        parse(line.as_bytes()).expect("a LIST line")
    }

    #[test]
    fn table_of_list_commands() {
        let basic = parsed("a LIST \"\" \"*\"\r\n").unwrap();
        assert!(!basic.extended);
        assert_eq!(basic.patterns, ["*"]);
        assert!(!is_extended(b"a LIST \"\" %\r\n"));
        assert!(!is_extended(b"a LSUB \"\" *\r\n"));

        let full = parsed(
            "a list (subscribed remote recursivematch) \"\" (\"INBOX\" Sent*) \
             return (children special-use status (messages unseen uidnext))",
        )
        .unwrap();
        assert!(full.extended);
        assert!(full.selection.subscribed && full.selection.remote);
        assert!(full.selection.recursive_match && !full.selection.special_use);
        assert_eq!(full.patterns, ["INBOX", "Sent*"]);
        assert!(full.returns.children && full.returns.special_use);
        assert!(full.returns.subscribed, "implied by the selection");
        assert_eq!(
            full.returns.status,
            Some(vec![
                StatusDataItemName::Messages,
                StatusDataItemName::Unseen,
                StatusDataItemName::UidNext
            ])
        );

        let empty = parsed("a LIST () \"\" % RETURN ()").unwrap();
        assert!(empty.extended);
        assert_eq!(empty.selection, Selection::default());
        assert_eq!(empty.returns, Returns::default());

        let quoted = parsed(r#"a LIST "" "a \"b\" \\c""#).unwrap();
        assert_eq!(quoted.patterns, [r#"a "b" \c"#]);

        let refused = [
            (
                "a LIST (FOO) \"\" *",
                ListError::UnknownOption("FOO".into()),
            ),
            (
                "a LIST (RECURSIVEMATCH) \"\" *",
                ListError::RecursiveMatchAlone,
            ),
            (
                "a LIST \"\" * RETURN (BAR)",
                ListError::UnknownOption("BAR".into()),
            ),
            (
                "a LIST \"\" * RETURN (STATUS (SIZES))",
                ListError::UnknownOption("SIZES".into()),
            ),
            (
                "a LIST \"\" ()",
                ListError::Syntax("empty list of patterns"),
            ),
            (
                "a LIST \"\" * RETURN (STATUS ())",
                ListError::Syntax("STATUS needs at least one item"),
            ),
            (
                "a LIST \"\" * RETURN",
                ListError::Syntax("( expected after RETURN"),
            ),
            (
                "a LIST \"\" * EXTRA",
                ListError::Syntax("RETURN or end of line expected"),
            ),
            ("a LIST (SUBSCRIBED", ListError::Syntax("missing )")),
        ];
        for (line, error) in refused {
            assert_eq!(parsed(line), Err(error), "{line}");
        }
        assert!(is_extended(b"a LIST (FOO) \"\" *\r\n"));
        assert!(
            !is_extended(b"a LIST \"\" * EXTRA\r\n"),
            "imap-codec says BAD"
        );
        assert!(
            parse(b"a LIST \"\" {5}\r\n").is_none(),
            "a literal goes to imap-codec"
        );
        assert!(parse(b"a SELECT INBOX\r\n").is_none());
    }
}
