//! ENVELOPE on hand-written messages, compared with the wire form a server sends (Dovecot's shape).

mod common;

use common::{INTERNATIONAL, PLAIN, inner_message, literal, nested_message, wire, xdm_message};
use imap_codec::imap_types::fetch::MessageDataItem;
use mssd_imap::mime::envelope;

fn envelope_wire(message: &str) -> String {
    wire(MessageDataItem::Envelope(envelope(message.as_bytes())))
}

#[test]
fn envelope_table() {
    let jean = r#"(("Dr Jean Dupont" NIL "jean.dupont" "hopital.mssante.fr"))"#;
    let hopital = r#"(("=?UTF-8?Q?H=C3=B4pital?=" NIL "expediteur" "hopital.mssante.fr"))"#;
    let francois =
        r#"(("=?ISO-8859-1?Q?Fran=E7ois_M=FCller?=" NIL "francois.muller" "hopital.mssante.fr"))"#;
    let bob = r#"(("Bob" NIL "b" "y.fr"))"#;
    let cases: Vec<(&str, String, String)> = vec![
        (
            "plain: sender and reply-to default to from",
            PLAIN.to_owned(),
            format!(
                r#"ENVELOPE ("Mon, 23 Nov 2026 10:00:00 +0100" "Compte rendu" {jean} {jean} {jean} ((NIL NIL "secretariat" "clinique.mssante.fr")) NIL NIL NIL "<cr-1@hopital.mssante.fr>")"#
            ),
        ),
        (
            "encoded words stay raw",
            xdm_message(),
            format!(
                r#"ENVELOPE (NIL "=?UTF-8?B?Q29tcHRlIHJlbmR1?=" {hopital} {hopital} {hopital} ((NIL NIL "patient-team" "chu.mssante.fr")) NIL NIL NIL NIL)"#
            ),
        ),
        (
            "8-bit headers, groups, folded subject, explicit sender and reply-to",
            INTERNATIONAL.to_owned(),
            format!(
                r#"ENVELOPE ("Tue, 24 Nov 2026 08:30:00 +0100" {subject} {francois} ((NIL NIL "secretariat" "hopital.mssante.fr")) (({reply_name} NIL "cardio" "hopital.mssante.fr")) ((NIL NIL "Equipe soins" NIL)(NIL NIL "infirmier" "chu.mssante.fr")({chef} NIL "chef" "chu.mssante.fr")(NIL NIL NIL NIL)) ((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)) NIL "<prev@chu.mssante.fr>" "<m4@hopital.mssante.fr>")"#,
                subject = literal("Résultats d'analyse"),
                reply_name = literal("Équipe cardiologie"),
                chef = literal("Médecin, Chef"),
            ),
        ),
        (
            "missing headers are NIL",
            "X-Other: 1\r\n\r\nbody\r\n".to_owned(),
            "ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)".to_owned(),
        ),
        (
            "empty subject is NIL, LF-only message",
            "Subject:\nFrom: a@b.fr\n\nx\n".to_owned(),
            r#"ENVELOPE (NIL NIL ((NIL NIL "a" "b.fr")) ((NIL NIL "a" "b.fr")) ((NIL NIL "a" "b.fr")) NIL NIL NIL NIL NIL)"#.to_owned(),
        ),
        (
            "encapsulated message",
            inner_message(),
            format!(r#"ENVELOPE (NIL "inner" {bob} {bob} {bob} NIL NIL NIL NIL NIL)"#),
        ),
        (
            "nested message: only the top header counts",
            nested_message(),
            r#"ENVELOPE (NIL "nested" ((NIL NIL "a" "x.fr")) ((NIL NIL "a" "x.fr")) ((NIL NIL "a" "x.fr")) NIL NIL NIL NIL NIL)"#.to_owned(),
        ),
        (
            "no header at all",
            String::new(),
            "ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)".to_owned(),
        ),
    ];
    for (name, message, want) in cases {
        assert_eq!(envelope_wire(&message), want, "{name}");
    }
}
