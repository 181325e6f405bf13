//! ESEARCH (RFC 4731), ESORT (RFC 5267) and SEARCHRES (RFC 5182): `SEARCH RETURN (MIN MAX
//! COUNT ALL SAVE)`, `SORT RETURN (…)`, `$`, and the `* ESEARCH` answer. imap-codec has no
//! grammar for RETURN nor for `$`, so the input gate takes the options off the command line
//! and writes a lone `$` as the number [`SAVED_RESULT`] (this module finds and parses them);
//! imap-codec decodes the plain SEARCH or SORT that is left; the session answers with
//! `* ESEARCH` and puts the saved messages where the number stands.

use crate::sort::strip_prefix_ci;

/// A result option of RFC 4731.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnOption {
    Min,
    Max,
    All,
    Count,
    /// SEARCHRES: keep the result for `$`.
    Save,
}

/// What a lone `$` becomes for imap-codec: a number no folder reaches (4,294,967,295
/// messages, or that UID), replaced by the saved result before the command runs.
pub const SAVED_RESULT: u32 = u32::MAX;

/// `line` with every lone `$` outside quoted strings written as [`SAVED_RESULT`]
/// (`$Forwarded` and other keywords are left alone). None when there is none.
pub fn substitute_saved(line: &[u8]) -> Option<Vec<u8>> {
    if !takes_sets(line) {
        return None;
    }
    let mut out: Option<Vec<u8>> = None;
    let mut quoted = false;
    let mut escaped = false;
    for (i, &b) in line.iter().enumerate() {
        let lone = !quoted
            && b == b'$'
            && i > 0
            && matches!(line[i - 1], b' ' | b'(')
            && matches!(line.get(i + 1), Some(b' ' | b')' | b'\r' | b'\n') | None);
        if quoted {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => quoted = false,
                _ => {}
            }
        } else if b == b'"' {
            quoted = true;
        }
        if lone {
            let out = out.get_or_insert_with(|| line[..i].to_vec());
            out.extend_from_slice(SAVED_RESULT.to_string().as_bytes());
        } else if let Some(out) = &mut out {
            out.push(b);
        }
    }
    out
}

/// Commands where `$` may stand for a set: `[UID] FETCH|STORE|COPY|MOVE|SEARCH|SORT|THREAD`
/// and `UID EXPUNGE`. Elsewhere `$` is an atom like any other (a folder may be called `$`).
fn takes_sets(line: &[u8]) -> bool {
    const COMMANDS: [&[u8]; 8] = [
        b"FETCH", b"STORE", b"COPY", b"MOVE", b"SEARCH", b"SORT", b"THREAD", b"EXPUNGE",
    ];
    let mut words = line.split(|&b| b == b' ' || b == b'\r' || b == b'\n');
    let _tag = words.next();
    let Some(mut command) = words.next() else {
        return false;
    };
    if command.eq_ignore_ascii_case(b"UID") {
        command = words.next().unwrap_or_default();
    }
    COMMANDS.iter().any(|c| command.eq_ignore_ascii_case(c))
}

/// The RETURN options a search line carries (its tag, its options, and the line without
/// them), or None when it has none or ones we do not know (imap-codec then refuses the line).
pub fn split_return(line: &[u8]) -> Option<(String, Vec<ReturnOption>, Vec<u8>)> {
    let text = std::str::from_utf8(line).ok()?;
    let (tag, rest) = text.split_once(' ')?;
    let (command, rest) = rest.split_once(' ')?;
    let (uid, rest) = if command.eq_ignore_ascii_case("UID") {
        let (search, rest) = rest.split_once(' ')?;
        (true, (search, rest))
    } else {
        (false, (command, rest))
    };
    let (search, rest) = rest;
    if !search.eq_ignore_ascii_case("SEARCH") && !search.eq_ignore_ascii_case("SORT") {
        return None;
    }
    let after = strip_prefix_ci(rest, "RETURN ")?;
    let inner_end = after.find(')')?;
    let inner = after.strip_prefix('(')?.get(..inner_end - 1)?;
    let mut options = Vec::new();
    for word in inner.split_ascii_whitespace() {
        let option = match word.to_ascii_uppercase().as_str() {
            "MIN" => ReturnOption::Min,
            "MAX" => ReturnOption::Max,
            "ALL" => ReturnOption::All,
            "COUNT" => ReturnOption::Count,
            "SAVE" => ReturnOption::Save,
            _ => return None,
        };
        if !options.contains(&option) {
            options.push(option);
        }
    }
    // RETURN () means RETURN (ALL).
    if options.is_empty() {
        options.push(ReturnOption::All);
    }
    let criteria = after[inner_end + 1..].trim_start_matches(' ');
    let uid = if uid { "UID " } else { "" };
    let rewritten = format!("{tag} {uid}{} {criteria}", search.to_ascii_uppercase());
    Some((tag.to_owned(), options, rewritten.into_bytes()))
}

/// The `* ESEARCH` line (with CRLF) for `numbers` found by the command `tag`: ascending for
/// SEARCH; in sort order for SORT, where MIN and MAX are the first and last of that order and
/// ALL keeps it (RFC 5267 3.2).
/// With CONDSTORE and a MODSEQ criterion, `modseq` (the highest of the messages returned) ends
/// the line (RFC 7162 3.1.5), unless nothing matched.
pub fn esearch_line(
    tag: &str,
    by_uid: bool,
    options: &[ReturnOption],
    numbers: &[u32],
    modseq: Option<u64>,
) -> String {
    let mut line = format!("* ESEARCH (TAG \"{tag}\")");
    if by_uid {
        line.push_str(" UID");
    }
    for option in options {
        match option {
            ReturnOption::Save => {}
            ReturnOption::Min => {
                if let Some(min) = numbers.first() {
                    line.push_str(&format!(" MIN {min}"));
                }
            }
            ReturnOption::Max => {
                if let Some(max) = numbers.last() {
                    line.push_str(&format!(" MAX {max}"));
                }
            }
            ReturnOption::Count => line.push_str(&format!(" COUNT {}", numbers.len())),
            ReturnOption::All => {
                if !numbers.is_empty() {
                    line.push_str(" ALL ");
                    line.push_str(&sequence_set(numbers));
                }
            }
        }
    }
    if let Some(modseq) = modseq.filter(|_| !numbers.is_empty()) {
        line.push_str(&format!(" MODSEQ {modseq}"));
    }
    line.push_str("\r\n");
    line
}

/// `1:3,7,9:10` for `numbers`: runs of consecutive ascending numbers become ranges, the
/// order is kept.
fn sequence_set(numbers: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < numbers.len() {
        let start = numbers[i];
        let mut end = start;
        while i + 1 < numbers.len() && numbers[i + 1] == end + 1 {
            i += 1;
            end = numbers[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}
