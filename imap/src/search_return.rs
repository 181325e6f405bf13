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

/// `line` with each `$` that stands for a set of messages written as [`SAVED_RESULT`]:
/// the set argument of `[UID] FETCH|STORE|COPY|MOVE` and `UID EXPUNGE`, and a search key of
/// `[UID] SEARCH|SORT|THREAD` (`$`, `UID $`, inside OR, NOT and parentheses). A `$` elsewhere
/// — a folder named `$` (`COPY 1 $`), a keyword (`+FLAGS ($)`, `KEYWORD $`), the value of
/// `SUBJECT $` — is left alone. None when there is nothing to replace.
pub fn substitute_saved(line: &[u8]) -> Option<Vec<u8>> {
    substitute_in_command(line).0
}

/// What a search command line that ends with a literal leaves for the line after the
/// literal: how many values remain to skip (`HEADER {5}` leaves one).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SearchContinuation {
    pub skip: usize,
}

/// [`substitute_saved`] for the first line of a command, with what a search command
/// carries over a literal (None for other commands).
pub fn substitute_in_command(line: &[u8]) -> (Option<Vec<u8>>, Option<SearchContinuation>) {
    let words = words(line);
    let mut at = 1; // past the tag
    let Some(mut command) = words.get(at).map(|w| w.text(line)) else {
        return (None, None);
    };
    if command.eq_ignore_ascii_case(b"UID") {
        at += 1;
        let Some(next) = words.get(at) else {
            return (None, None);
        };
        command = next.text(line);
    }
    let upper = command.to_ascii_uppercase();
    let (replace, carry) = match upper.as_slice() {
        b"FETCH" | b"STORE" | b"COPY" | b"MOVE" | b"EXPUNGE" => (
            words
                .get(at + 1)
                .filter(|w| w.text(line) == b"$")
                .map(|w| vec![w.start])
                .unwrap_or_default(),
            None,
        ),
        b"SEARCH" | b"SORT" | b"THREAD" => {
            let (found, skip) = search_keys(line, &words[(at + 1).min(words.len())..], 0);
            (found, Some(SearchContinuation { skip }))
        }
        _ => (Vec::new(), None),
    };
    (replace_at(line, &replace), carry)
}

/// The line after a literal of a search command: `$` replaced where it stands for a set.
pub fn substitute_in_continuation(
    line: &[u8],
    carried: SearchContinuation,
) -> (Option<Vec<u8>>, SearchContinuation) {
    let words = words(line);
    let (found, skip) = search_keys(line, &words, carried.skip);
    (replace_at(line, &found), SearchContinuation { skip })
}

fn replace_at(line: &[u8], starts: &[usize]) -> Option<Vec<u8>> {
    if starts.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(line.len() + 16 * starts.len());
    let mut from = 0;
    for &start in starts {
        out.extend_from_slice(&line[from..start]);
        out.extend_from_slice(SAVED_RESULT.to_string().as_bytes());
        from = start + 1;
    }
    out.extend_from_slice(&line[from..]);
    Some(out)
}

/// One atom or quoted string of a command line, parentheses split off.
#[derive(Clone, Copy)]
struct Word {
    start: usize,
    end: usize,
    quoted: bool,
}

impl Word {
    fn text<'a>(&self, line: &'a [u8]) -> &'a [u8] {
        &line[self.start..self.end]
    }
}

/// The words of `line`: atoms, quoted strings (kept whole, escapes honoured), and each
/// parenthesis as a word of its own. A literal's announcement `{n}` is an atom.
fn words(line: &[u8]) -> Vec<Word> {
    let mut words = Vec::new();
    let mut i = 0;
    while i < line.len() {
        match line[i] {
            b' ' | b'\r' | b'\n' => i += 1,
            b'(' | b')' => {
                words.push(Word {
                    start: i,
                    end: i + 1,
                    quoted: false,
                });
                i += 1;
            }
            b'"' => {
                let start = i;
                i += 1;
                while i < line.len() && line[i] != b'"' {
                    i += if line[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(line.len());
                words.push(Word {
                    start,
                    end: i,
                    quoted: true,
                });
            }
            _ => {
                let start = i;
                while i < line.len() && !matches!(line[i], b' ' | b'\r' | b'\n' | b'(' | b')') {
                    i += 1;
                }
                words.push(Word {
                    start,
                    end: i,
                    quoted: false,
                });
            }
        }
    }
    words
}

/// Search keys followed by one argument that is not a set (RFC 3501 6.4.4, RFC 7162, RFC
/// 5032): a `$` there is a value.
const KEYS_WITH_A_VALUE: [&[u8]; 16] = [
    b"BCC",
    b"BEFORE",
    b"BODY",
    b"CC",
    b"FROM",
    b"KEYWORD",
    b"LARGER",
    b"ON",
    b"SENTBEFORE",
    b"SENTON",
    b"SENTSINCE",
    b"SINCE",
    b"SMALLER",
    b"SUBJECT",
    b"TEXT",
    b"UNKEYWORD",
];

/// Where `$` stands for a set among the search criteria `words` (of SORT and THREAD too:
/// their sort criteria, algorithm and charset come first and are no `$`).
/// Returns the positions and the values still to skip at the end (a literal announcement
/// `{n}` counts as the value it announces).
fn search_keys(line: &[u8], words: &[Word], skip_first: usize) -> (Vec<usize>, usize) {
    let mut found = Vec::new();
    let mut i = skip_first;
    while i < words.len() {
        let word = words[i];
        let text = word.text(line).to_ascii_uppercase();
        let skip = if word.quoted {
            0
        } else if text == b"$" {
            found.push(word.start);
            0
        } else if KEYS_WITH_A_VALUE.contains(&text.as_slice())
            || text == b"CHARSET"
            || text == b"TO"
            || text == b"OLDER"
            || text == b"YOUNGER"
        {
            1
        } else if text == b"HEADER" {
            2
        } else {
            0
        };
        i += 1 + skip;
    }
    (found, i - words.len().min(i))
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
