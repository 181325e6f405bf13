//! Redaction of values that may carry an INS, so errors and logs never hold one in clear.

/// How many leading characters of a sensitive value are kept.
const KEPT_PREFIX: usize = 5;

/// Inputs echoed in error messages are cut to this many characters (bounded logs).
const MAX_ECHOED_CHARS: usize = 80;

/// Keeps at most the first 5 characters of `value` and replaces the rest by one `*`.
pub fn redact_value(value: &str) -> String {
    let mut chars = value.chars();
    let prefix: String = chars.by_ref().take(KEPT_PREFIX).collect();
    if chars.next().is_some() {
        format!("{prefix}*")
    } else {
        prefix
    }
}

/// Prepares free text (an address, a domain) for an error message: INS-like runs are
/// redacted (see [`redact_ins_runs`]) and the text is cut to a bounded length.
pub fn redact_for_error(input: &str) -> String {
    truncate_chars(&redact_ins_runs(input), MAX_ECHOED_CHARS)
}

/// Redacts, in free text, every run of 13 or more NIR-like characters (digits, `A`, `B`)
/// holding at least 11 digits, which could be a matricule INS: such a run keeps its first
/// 5 characters followed by `*`. Other text is kept as it is.
pub fn redact_ins_runs(input: &str) -> String {
    // A NIR is 13 characters; shorter runs cannot be a matricule.
    const NIR_LEN: usize = 13;
    // A NIR has at most two letters (the Corsican department 2A/2B).
    const MIN_DIGITS: usize = NIR_LEN - 2;
    let chars: Vec<char> = input.chars().collect();
    let mut out = String::with_capacity(input.len());
    let mut i = 0;
    while i < chars.len() {
        let run_len = chars[i..].iter().take_while(|c| is_nir_char(**c)).count();
        let run = &chars[i..i + run_len];
        let digits = run.iter().filter(|c| c.is_ascii_digit()).count();
        if run_len >= NIR_LEN && digits >= MIN_DIGITS {
            out.push_str(&redact_value(&run.iter().collect::<String>()));
            i += run_len;
        } else if run_len > 0 {
            out.extend(run);
            i += run_len;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

fn is_nir_char(c: char) -> bool {
    c.is_ascii_digit() || matches!(c, 'A' | 'B' | 'a' | 'b')
}

fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_value_table() {
        let cases = [
            ("", ""),
            ("2951", "2951"),
            ("29510", "29510"),
            ("295109", "29510*"),
            ("295109912611193", "29510*"),
            ("éàçüö€", "éàçüö*"),
        ];
        for (input, expected) in cases {
            assert_eq!(redact_value(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn redact_for_error_table() {
        let cases = [
            ("dr.martin@x.fr", "dr.martin@x.fr"),
            ("295109912611193@patient.fr", "29510*@patient.fr"),
            ("<253072B07300470>", "<25307*>"),
            ("x 123456789012 y", "x 123456789012 y"),
            ("1234567890123", "12345*"),
            ("253072a07300443", "25307*"),
            ("aaaaaaaaaaaaaaaaaaaa@x.fr", "aaaaaaaaaaaaaaaaaaaa@x.fr"),
        ];
        for (input, expected) in cases {
            assert_eq!(redact_for_error(input), expected, "input {input:?}");
        }
        let long_ins_run = format!("{}@x.fr", "1".repeat(200));
        assert_eq!(redact_ins_runs(&long_ins_run), "11111*@x.fr");
        let long = "x".repeat(200);
        assert_eq!(redact_ins_runs(&long), long);
        let cut = redact_for_error(&long);
        assert_eq!(cut.chars().count(), MAX_ECHOED_CHARS + 1);
        assert!(cut.ends_with('…'));
    }
}
