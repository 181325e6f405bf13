//! The base subject of RFC 5256 §2.1, which SORT SUBJECT compares and THREAD groups by: the
//! decoded subject without its reply and forward markers (`Re:`, `Fwd:`, `[list]` blobs,
//! `(fwd)` trailers, `[fwd: …]` wrappers). Markers are matched case-insensitively.

/// The base subject of a subject already decoded from RFC 2047 encoded words.
pub fn base_subject(decoded: &str) -> String {
    base_subject_of_reply(decoded).0
}

/// The base subject, and whether the subject marked a reply or forward (RFC 5256 §2.1: a
/// `re`/`fw`/`fwd` leader, a `(fwd)` trailer or a `[fwd: …]` wrapper was removed).
pub fn base_subject_of_reply(decoded: &str) -> (String, bool) {
    let mut reply = false;
    // (1) Tabs and line breaks become spaces, runs of spaces one space.
    let mut subject = String::with_capacity(decoded.len());
    for c in decoded.chars() {
        let c = if matches!(c, '\t' | '\r' | '\n') {
            ' '
        } else {
            c
        };
        if !(c == ' ' && subject.ends_with(' ')) {
            subject.push(c);
        }
    }
    let mut s = subject.as_str();
    loop {
        // (2) Trailers: "(fwd)" and white space, as often as they come.
        loop {
            let trimmed = s.trim_end_matches(' ');
            match strip_suffix_ci(trimmed, "(fwd)") {
                Some(rest) => {
                    s = rest;
                    reply = true;
                }
                None => {
                    s = trimmed;
                    break;
                }
            }
        }
        // (3)-(5) Leaders, and leading blobs that leave something behind.
        loop {
            let before = s.len();
            while let Some((rest, refwd)) = strip_leader(s) {
                s = rest;
                reply |= refwd;
            }
            if let Some(rest) = strip_blob(s)
                && rest.chars().any(|c| c != ' ')
            {
                s = rest;
            }
            if s.len() == before {
                break;
            }
        }
        // (6) A "[fwd: …]" wrapper: unwrap and start over.
        if let Some(inner) = strip_prefix_ci(s, "[fwd:").and_then(|r| r.strip_suffix(']')) {
            s = inner;
            reply = true;
            continue;
        }
        return (s.to_owned(), reply);
    }
}

/// subj-leader: `*subj-blob subj-refwd` or one white space; true for a subj-refwd.
fn strip_leader(s: &str) -> Option<(&str, bool)> {
    if let Some(rest) = s.strip_prefix(' ') {
        return Some((rest, false));
    }
    let mut t = s;
    while let Some(rest) = strip_blob(t) {
        t = rest;
    }
    // subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"
    let t = strip_prefix_ci(t, "re")
        .or_else(|| strip_prefix_ci(t, "fwd"))
        .or_else(|| strip_prefix_ci(t, "fw"))?;
    let t = t.trim_start_matches(' ');
    let t = strip_blob(t).unwrap_or(t);
    t.strip_prefix(':').map(|rest| (rest, true))
}

/// subj-blob: `"[" *BLOBCHAR "]" *WSP`, BLOBCHAR being anything but brackets.
fn strip_blob(s: &str) -> Option<&str> {
    let inner = s.strip_prefix('[')?;
    let end = inner.find([']', '['])?;
    (inner.as_bytes()[end] == b']').then(|| inner[end + 1..].trim_start_matches(' '))
}

/// `s` without `prefix`, compared ASCII case-insensitively.
pub(crate) fn strip_prefix_ci<'s>(s: &'s str, prefix: &str) -> Option<&'s str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

fn strip_suffix_ci<'s>(s: &'s str, suffix: &str) -> Option<&'s str> {
    let at = s.len().checked_sub(suffix.len())?;
    let tail = s.get(at..)?;
    tail.eq_ignore_ascii_case(suffix).then(|| &s[..at])
}
