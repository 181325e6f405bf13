//! BODY and BODYSTRUCTURE on hand-written messages. Sizes and line counts come from the part bodies
//! the test wrote (common.rs), so a parser that counts decoded bytes or boundary CRLFs fails.
//! imap-codec writes the "TEXT" and "MESSAGE" "RFC822" type names itself, in capitals.

mod common;

use common::*;
use imap_codec::imap_types::fetch::MessageDataItem;
use mssd_imap::mime::body_structure;

fn structure_wire(message: &str, extended: bool) -> String {
    let structure = body_structure(message.as_bytes(), extended);
    wire(if extended {
        MessageDataItem::BodyStructure(structure)
    } else {
        MessageDataItem::Body(structure)
    })
}

#[test]
fn body_structure_table() {
    let text = XDM_TEXT.len();
    let text_lines = lines(XDM_TEXT);
    let zip = XDM_ZIP.len();
    let plain = NESTED_PLAIN.len();
    let plain_lines = lines(NESTED_PLAIN);
    let html = NESTED_HTML.len();
    let inner = inner_message();
    let (inner_len, inner_lines) = (inner.len(), lines(&inner));
    let inner_envelope = r#"(NIL "inner" (("Bob" NIL "b" "y.fr")) (("Bob" NIL "b" "y.fr")) (("Bob" NIL "b" "y.fr")) NIL NIL NIL NIL NIL)"#;
    let inner_body = INNER_BODY.len();
    let digest_part = "From: c@d.fr\r\n\r\nhi";
    let cases: Vec<(&str, String, bool, String)> = vec![
        (
            "plain message without Content-Type (34 octets, 2 lines counted by hand)",
            PLAIN.to_owned(),
            true,
            r#"BODYSTRUCTURE ("TEXT" "plain" ("charset" "us-ascii") NIL NIL "7BIT" 34 2 NIL NIL NIL NIL)"#.to_owned(),
        ),
        (
            "plain message, BODY",
            PLAIN.to_owned(),
            false,
            r#"BODY ("TEXT" "plain" ("charset" "us-ascii") NIL NIL "7BIT" 34 2)"#.to_owned(),
        ),
        (
            "MSSanté CDA: text + IHE_XDM.zip attachment",
            xdm_message(),
            true,
            format!(
                r#"BODYSTRUCTURE (("TEXT" "plain" ("charset" "utf-8") NIL NIL "8bit" {text} {text_lines} NIL NIL NIL NIL)("application" "zip" ("name" "IHE_XDM.zip") NIL NIL "base64" {zip} NIL ("attachment" ("filename" "IHE_XDM.zip")) ("fr" "en") NIL) "mixed" ("boundary" "XDM-BOUNDARY") NIL NIL NIL)"#
            ),
        ),
        (
            "MSSanté CDA, BODY has no extension data",
            xdm_message(),
            false,
            format!(
                r#"BODY (("TEXT" "plain" ("charset" "utf-8") NIL NIL "8bit" {text} {text_lines})("application" "zip" ("name" "IHE_XDM.zip") NIL NIL "base64" {zip}) "mixed")"#
            ),
        ),
        (
            "alternative inside mixed, then message/rfc822",
            nested_message(),
            true,
            format!(
                concat!(
                    r#"BODYSTRUCTURE ((("TEXT" "plain" ("charset" "us-ascii") NIL NIL "7BIT" {plain} {plain_lines} NIL NIL NIL NIL)"#,
                    r#"("TEXT" "html" ("charset" "us-ascii") NIL NIL "7BIT" {html} 0 NIL NIL NIL NIL) "alternative" ("boundary" "inner") NIL NIL NIL)"#,
                    r#"("MESSAGE" "RFC822" NIL NIL "forwarded" "7BIT" {inner_len} {inner_envelope} ("TEXT" "plain" ("charset" "us-ascii") NIL NIL "7BIT" {inner_body} 1 NIL NIL NIL NIL) {inner_lines} NIL NIL NIL NIL)"#,
                    r#" "mixed" ("boundary" "outer") NIL NIL NIL)"#
                ),
                plain = plain,
                plain_lines = plain_lines,
                html = html,
                inner_len = inner_len,
                inner_envelope = inner_envelope,
                inner_body = inner_body,
                inner_lines = inner_lines,
            ),
        ),
        (
            "LF-only message: sizes count the bytes as stored",
            "Subject: lf\n\nline1\nline2\n".to_owned(),
            false,
            r#"BODY ("TEXT" "plain" ("charset" "us-ascii") NIL NIL "7BIT" 12 2)"#.to_owned(),
        ),
        (
            "id, description, location, charset as sent, last line without CRLF",
            "Content-Type: text/plain; charset=\"ISO-8859-1\"\r\nContent-ID: <id1@x>\r\nContent-Description: Lettre\r\nContent-Location: http://x/y\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nabc".to_owned(),
            true,
            r#"BODYSTRUCTURE ("TEXT" "plain" ("charset" "ISO-8859-1") "<id1@x>" "Lettre" "quoted-printable" 3 0 NIL NIL NIL "http://x/y")"#.to_owned(),
        ),
        (
            "multipart/digest parts default to message/rfc822",
            format!("Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\n{digest_part}\r\n--d--\r\n"),
            false,
            format!(
                r#"BODY (("MESSAGE" "RFC822" NIL NIL NIL "7BIT" {} (NIL NIL ((NIL NIL "c" "d.fr")) ((NIL NIL "c" "d.fr")) ((NIL NIL "c" "d.fr")) NIL NIL NIL NIL NIL) ("TEXT" "plain" ("charset" "us-ascii") NIL NIL "7BIT" 2 0) 2) "digest")"#,
                digest_part.len()
            ),
        ),
        (
            "empty message",
            String::new(),
            false,
            r#"BODY ("TEXT" "plain" ("charset" "us-ascii") NIL NIL "7BIT" 0 0)"#.to_owned(),
        ),
    ];
    for (name, message, extended, want) in cases {
        assert_eq!(structure_wire(&message, extended), want, "{name}");
    }
}
