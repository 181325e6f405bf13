//! ESEARCH (RFC 4731): `SEARCH RETURN (MIN MAX COUNT ALL)` and its answer. imap-codec has no
//! grammar for RETURN, so the input gate takes the options off the command line (this module
//! finds and parses them) and imap-codec decodes the plain SEARCH that is left; the session
//! then answers with `* ESEARCH` instead of `* SEARCH`.

use crate::sort::strip_prefix_ci;

/// A result option of RFC 4731.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnOption {
    Min,
    Max,
    All,
    Count,
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
    if !search.eq_ignore_ascii_case("SEARCH") {
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
    let rewritten = format!("{tag} {uid}SEARCH {criteria}");
    Some((tag.to_owned(), options, rewritten.into_bytes()))
}

/// The `* ESEARCH` line (with CRLF) for `numbers` (ascending) found by the command `tag`.
pub fn esearch_line(tag: &str, by_uid: bool, options: &[ReturnOption], numbers: &[u32]) -> String {
    let mut line = format!("* ESEARCH (TAG \"{tag}\")");
    if by_uid {
        line.push_str(" UID");
    }
    for option in options {
        match option {
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
    line.push_str("\r\n");
    line
}

/// `1:3,7,9:10` for ascending `numbers`.
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
