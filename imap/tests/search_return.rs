//! ESEARCH (RFC 4731) as tables: RETURN options taken off the search line, and the result
//! syntax.

use mssd_imap::search_return::{
    ReturnOption, SearchContinuation, esearch_line, split_return, substitute_in_command,
    substitute_in_continuation, substitute_saved,
};

#[test]
fn return_options_are_split_off() {
    use ReturnOption::*;
    type Split = Option<(&'static str, Vec<ReturnOption>, &'static str)>;
    let cases: Vec<(&str, Split)> = vec![
        (
            "a SEARCH RETURN (MIN MAX) UNSEEN\r\n",
            Some(("a", vec![Min, Max], "a SEARCH UNSEEN\r\n")),
        ),
        (
            "b uid search return (count all) 1:* SUBJECT x\r\n",
            Some(("b", vec![Count, All], "b UID SEARCH 1:* SUBJECT x\r\n")),
        ),
        (
            "c SEARCH RETURN () ALL\r\n",
            Some(("c", vec![All], "c SEARCH ALL\r\n")),
        ),
        (
            "d SEARCH RETURN (COUNT COUNT) CHARSET UTF-8 SUBJECT {4}\r\n",
            Some(("d", vec![Count], "d SEARCH CHARSET UTF-8 SUBJECT {4}\r\n")),
        ),
        ("e SEARCH RETURN (PARTIAL 1:10) ALL\r\n", None),
        ("f SEARCH UNSEEN\r\n", None),
        ("g FETCH RETURN (MIN) 1\r\n", None),
        (
            "h UID SORT RETURN (MIN ALL) (REVERSE DATE) UTF-8 UNSEEN\r\n",
            Some((
                "h",
                vec![Min, All],
                "h UID SORT (REVERSE DATE) UTF-8 UNSEEN\r\n",
            )),
        ),
        (
            "i SEARCH RETURN (SAVE) FLAGGED\r\n",
            Some(("i", vec![Save], "i SEARCH FLAGGED\r\n")),
        ),
    ];
    for (line, expected) in cases {
        let got = split_return(line.as_bytes());
        let expected = expected.map(|(t, o, r)| (t.to_owned(), o, r.as_bytes().to_vec()));
        assert_eq!(got, expected, "{line:?}");
    }
}

#[test]
fn esearch_syntax() {
    use ReturnOption::*;
    let cases: Vec<(bool, Vec<ReturnOption>, Vec<u32>, &str)> = vec![
        (
            false,
            vec![Min, Max, Count],
            vec![2, 3, 9],
            "* ESEARCH (TAG \"t\") MIN 2 MAX 9 COUNT 3\r\n",
        ),
        (
            true,
            vec![All],
            vec![1, 2, 3, 7, 9, 10],
            "* ESEARCH (TAG \"t\") UID ALL 1:3,7,9:10\r\n",
        ),
        (
            false,
            vec![Min, Max, All, Count],
            vec![],
            "* ESEARCH (TAG \"t\") COUNT 0\r\n",
        ),
        (false, vec![All], vec![], "* ESEARCH (TAG \"t\")\r\n"),
    ];
    for (uid, options, numbers, expected) in cases {
        assert_eq!(esearch_line("t", uid, &options, &numbers, None), expected);
    }
    // RFC 7162 3.1.5: the MODSEQ of the messages returned ends the line, unless none are.
    assert_eq!(
        esearch_line("t", false, &[Min], &[1, 4], Some(17)),
        "* ESEARCH (TAG \"t\") MIN 1 MODSEQ 17\r\n"
    );
    assert_eq!(
        esearch_line("t", true, &[Count], &[], Some(17)),
        "* ESEARCH (TAG \"t\") UID COUNT 0\r\n"
    );
}

/// SEARCHRES: a lone `$` becomes the placeholder number in commands taking sets, and only there.
#[test]
fn saved_result_placeholder() {
    let cases: Vec<(&str, Option<&str>)> = vec![
        (
            "a FETCH $ (FLAGS)\r\n",
            Some("a FETCH 4294967295 (FLAGS)\r\n"),
        ),
        (
            "a UID COPY $ Archive\r\n",
            Some("a UID COPY 4294967295 Archive\r\n"),
        ),
        (
            "a SEARCH OR $ (UID $) UNSEEN\r\n",
            Some("a SEARCH OR 4294967295 (UID 4294967295) UNSEEN\r\n"),
        ),
        ("a UID EXPUNGE $\r\n", Some("a UID EXPUNGE 4294967295\r\n")),
        ("a STORE 1 +FLAGS ($Forwarded)\r\n", None),
        ("a SEARCH SUBJECT \"$\" KEYWORD $Label1\r\n", None),
        ("a SEARCH SUBJECT \"x\\\" $\"\r\n", None),
        ("a CREATE $\r\n", None),
        ("a FETCH 1,$ FLAGS\r\n", None),
        // A folder or a keyword named `$`, a value: not a set.
        ("a COPY 1:3 $\r\n", None),
        ("a UID MOVE $ $\r\n", Some("a UID MOVE 4294967295 $\r\n")),
        (
            "a STORE $ +FLAGS ($)\r\n",
            Some("a STORE 4294967295 +FLAGS ($)\r\n"),
        ),
        (
            "a SEARCH KEYWORD $ SUBJECT $ HEADER $ $ $\r\n",
            Some("a SEARCH KEYWORD $ SUBJECT $ HEADER $ $ 4294967295\r\n"),
        ),
        (
            "a SEARCH NOT ($)\r\n",
            Some("a SEARCH NOT (4294967295)\r\n"),
        ),
        (
            "a UID SORT (DATE) UTF-8 $\r\n",
            Some("a UID SORT (DATE) UTF-8 4294967295\r\n"),
        ),
        ("a SORT (DATE) UTF-8 FROM $\r\n", None),
    ];
    for (line, expected) in cases {
        let got = substitute_saved(line.as_bytes());
        assert_eq!(got, expected.map(|e| e.as_bytes().to_vec()), "{line:?}");
    }
}

#[test]
fn dollar_after_a_literal_continues_the_search() {
    // (first line, line after the literal, expected after the literal)
    let cases: [(&str, &str, Option<&str>); 4] = [
        (
            "a SEARCH CHARSET UTF-8 SUBJECT {5}\r\n",
            " $\r\n",
            Some(" 4294967295\r\n"),
        ),
        // HEADER takes two values: the literal is the first, `$` the second.
        ("a SEARCH HEADER {7}\r\n", " $\r\n", None),
        (
            "a SEARCH HEADER {7}\r\n",
            " x $\r\n",
            Some(" x 4294967295\r\n"),
        ),
        (
            "a UID SORT (DATE) UTF-8 FROM {3}\r\n",
            " UID $\r\n",
            Some(" UID 4294967295\r\n"),
        ),
    ];
    for (first, next, expected) in cases {
        let (_, carry) = substitute_in_command(first.as_bytes());
        let carry: SearchContinuation = carry.unwrap_or_else(|| panic!("{first:?} is a search"));
        let (got, _) = substitute_in_continuation(next.as_bytes(), carry);
        assert_eq!(
            got,
            expected.map(|e| e.as_bytes().to_vec()),
            "{first:?} {next:?}"
        );
    }
    assert!(substitute_in_command(b"a FETCH {3}\r\n").1.is_none());
}
