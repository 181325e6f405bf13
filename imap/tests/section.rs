//! BODY[section]<partial> on hand-written messages: every expected slice is built from the pieces
//! the test assembled the message from.

mod common;

use std::num::NonZeroU32;

use common::*;
use imap_codec::imap_types::core::{AString, Vec1};
use imap_codec::imap_types::fetch::{Part, Section};
use mssd_imap::mime::{Partial, section};

fn part(path: &[u32]) -> Part {
    let numbers: Vec<NonZeroU32> = path.iter().map(|&n| NonZeroU32::new(n).unwrap()).collect();
    Part(Vec1::try_from(numbers).unwrap())
}

fn names(list: &[&'static str]) -> Vec1<AString<'static>> {
    let names: Vec<AString<'static>> = list
        .iter()
        .map(|n| AString::try_from(*n).unwrap())
        .collect();
    Vec1::try_from(names).unwrap()
}

fn partial(offset: u32, length: u32) -> Option<Partial> {
    Some((offset, NonZeroU32::new(length).unwrap()))
}

#[test]
fn section_table() {
    let nested = nested_message();
    let nested_text = nested.strip_prefix(NESTED_HEADER).unwrap().to_owned();
    let inner = inner_message();
    let plain_body = PLAIN.split_once("\r\n\r\n").unwrap().1;
    let xdm = xdm_message();
    type Case = (
        &'static str,
        String,
        Option<Section<'static>>,
        Option<Partial>,
        Option<String>,
    );
    let cases: Vec<Case> = vec![
        ("BODY[]", nested.clone(), None, None, Some(nested.clone())),
        ("BODY[HEADER]", nested.clone(), Some(Section::Header(None)), None, Some(NESTED_HEADER.into())),
        ("BODY[TEXT]", nested.clone(), Some(Section::Text(None)), None, Some(nested_text.clone())),
        ("BODY[1] multipart part", nested.clone(), Some(Section::Part(part(&[1]))), None, Some(nested_alternative_body())),
        ("BODY[1.MIME]", nested.clone(), Some(Section::Mime(part(&[1]))), None, Some(NESTED_ALT_MIME.into())),
        ("BODY[1.1]", nested.clone(), Some(Section::Part(part(&[1, 1]))), None, Some(NESTED_PLAIN.into())),
        ("BODY[1.2]", nested.clone(), Some(Section::Part(part(&[1, 2]))), None, Some(NESTED_HTML.into())),
        ("BODY[1.2.MIME]", nested.clone(), Some(Section::Mime(part(&[1, 2]))), None, Some(NESTED_HTML_MIME.into())),
        ("BODY[2] message/rfc822", nested.clone(), Some(Section::Part(part(&[2]))), None, Some(inner.clone())),
        ("BODY[2.HEADER]", nested.clone(), Some(Section::Header(Some(part(&[2])))), None, Some(INNER_HEADER.into())),
        ("BODY[2.TEXT]", nested.clone(), Some(Section::Text(Some(part(&[2])))), None, Some(INNER_BODY.into())),
        ("BODY[2.1] single-part inner message", nested.clone(), Some(Section::Part(part(&[2, 1]))), None, Some(INNER_BODY.into())),
        (
            "BODY[2.HEADER.FIELDS (SUBJECT)]",
            nested.clone(),
            Some(Section::HeaderFields(Some(part(&[2])), names(&["SUBJECT"]))),
            None,
            Some("Subject: inner\r\n\r\n".into()),
        ),
        ("BODY[3] does not exist", nested.clone(), Some(Section::Part(part(&[3]))), None, None),
        ("BODY[1.3] does not exist", nested.clone(), Some(Section::Part(part(&[1, 3]))), None, None),
        ("BODY[1.1.1] below a leaf", nested.clone(), Some(Section::Part(part(&[1, 1, 1]))), None, None),
        ("BODY[1.1.HEADER] not a message", nested.clone(), Some(Section::Header(Some(part(&[1, 1])))), None, None),
        ("BODY[1] of a single-part message", PLAIN.into(), Some(Section::Part(part(&[1]))), None, Some(plain_body.into())),
        ("BODY[2] of a single-part message", PLAIN.into(), Some(Section::Part(part(&[2]))), None, None),
        ("BODY[2] IHE_XDM.zip as stored (base64)", xdm.clone(), Some(Section::Part(part(&[2]))), None, Some(XDM_ZIP.into())),
        (
            "BODY[HEADER.FIELDS (To From)] keeps header order and raw bytes",
            PLAIN.into(),
            Some(Section::HeaderFields(None, names(&["To", "From"]))),
            None,
            Some("From: Dr Jean Dupont <jean.dupont@hopital.mssante.fr>\r\nTo: secretariat@clinique.mssante.fr\r\n\r\n".into()),
        ),
        (
            "BODY[HEADER.FIELDS (Subject)] keeps folding and 8-bit bytes",
            INTERNATIONAL.into(),
            Some(Section::HeaderFields(None, names(&["Subject"]))),
            None,
            Some("Subject: Résultats\r\n d'analyse\r\n\r\n".into()),
        ),
        (
            "BODY[HEADER.FIELDS (X-Absent)] is just the empty line",
            PLAIN.into(),
            Some(Section::HeaderFields(None, names(&["X-Absent"]))),
            None,
            Some("\r\n".into()),
        ),
        (
            "BODY[HEADER.FIELDS.NOT (Date Message-ID To)]",
            PLAIN.into(),
            Some(Section::HeaderFieldsNot(None, names(&["Date", "message-id", "To"]))),
            None,
            Some("From: Dr Jean Dupont <jean.dupont@hopital.mssante.fr>\r\nSubject: Compte rendu\r\n\r\n".into()),
        ),
        ("BODY[]<0.4>", PLAIN.into(), None, partial(0, 4), Some("Date".into())),
        ("BODY[1.1]<2.100> length past the end", nested.clone(), Some(Section::Part(part(&[1, 1]))), partial(2, 100), Some(NESTED_PLAIN[2..].into())),
        ("BODY[]<100000.5> offset past the end", PLAIN.into(), None, partial(100_000, 5), Some(String::new())),
        (
            "BODY[HEADER.FIELDS (From)]<6.2> partial of a built buffer",
            PLAIN.into(),
            Some(Section::HeaderFields(None, names(&["From"]))),
            partial(6, 2),
            Some("Dr".into()),
        ),
    ];
    for (name, message, spec, range, want) in cases {
        let got = section(message.as_bytes(), spec.as_ref(), range).map(|bytes| bytes.into_owned());
        assert_eq!(got, want.map(String::into_bytes), "{name}");
    }
}
