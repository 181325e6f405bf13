//! Messages written by hand for the MIME tests, with their part bodies as separate constants so
//! expected sizes and line counts are computed from what the test wrote, not from the parser.
#![allow(dead_code)]

use std::num::NonZeroU32;

use imap_codec::ResponseCodec;
use imap_codec::encode::Encoder;
use imap_codec::imap_types::core::Vec1;
use imap_codec::imap_types::fetch::MessageDataItem;
use imap_codec::imap_types::response::{Data, Response};

/// The item as a server sends it: `* 1 FETCH (<item>)` minus the wrapping.
pub fn wire(item: MessageDataItem<'static>) -> String {
    let response = Response::Data(Data::Fetch {
        seq: NonZeroU32::MIN,
        items: Vec1::from(item),
    });
    let bytes = ResponseCodec::default().encode(&response).dump();
    let text = String::from_utf8(bytes).expect("test messages are UTF-8");
    text.strip_prefix("* 1 FETCH (")
        .and_then(|t| t.strip_suffix(")\r\n"))
        .expect("a FETCH response")
        .to_owned()
}

/// An IMAP literal as the encoder writes 8-bit strings.
pub fn literal(text: &str) -> String {
    format!("{{{}}}\r\n{}", text.len(), text)
}

pub fn lines(text: &str) -> usize {
    text.matches('\n').count()
}

pub const PLAIN: &str = concat!(
    "Date: Mon, 23 Nov 2026 10:00:00 +0100\r\n",
    "From: Dr Jean Dupont <jean.dupont@hopital.mssante.fr>\r\n",
    "To: secretariat@clinique.mssante.fr\r\n",
    "Subject: Compte rendu\r\n",
    "Message-ID: <cr-1@hopital.mssante.fr>\r\n",
    "\r\n",
    "Bonjour,\r\n",
    "Voici le compte rendu.\r\n",
);

/// The text part's body: its last CRLF belongs to the boundary line that follows.
pub const XDM_TEXT: &str = "Ci-joint le document CDA.\r\nCordialement.";
pub const XDM_ZIP: &str =
    "UEsDBBQAAAAIAAAAIQAAAAAAAAAAAAAAAAAJAAAASU5ERVguSFRNUEsFBgAA\r\nAAABAAEANwAAACcAAAAAAA==";

pub fn xdm_message() -> String {
    format!(
        concat!(
            "From: =?UTF-8?Q?H=C3=B4pital?= <expediteur@hopital.mssante.fr>\r\n",
            "To: patient-team@chu.mssante.fr\r\n",
            "Subject: =?UTF-8?B?Q29tcHRlIHJlbmR1?=\r\n",
            "MIME-Version: 1.0\r\n",
            "Content-Type: multipart/mixed; boundary=\"XDM-BOUNDARY\"\r\n",
            "\r\n",
            "--XDM-BOUNDARY\r\n",
            "Content-Type: text/plain; charset=utf-8\r\n",
            "Content-Transfer-Encoding: 8bit\r\n",
            "\r\n",
            "{text}\r\n",
            "--XDM-BOUNDARY\r\n",
            "Content-Type: application/zip; name=\"IHE_XDM.zip\"\r\n",
            "Content-Transfer-Encoding: base64\r\n",
            "Content-Disposition: attachment; filename=\"IHE_XDM.zip\"\r\n",
            "Content-Language: fr, en\r\n",
            "\r\n",
            "{zip}\r\n",
            "--XDM-BOUNDARY--\r\n",
        ),
        text = XDM_TEXT,
        zip = XDM_ZIP
    )
}

pub const NESTED_PLAIN: &str = "Texte brut\r\nligne 2";
pub const NESTED_HTML: &str = "<p>Texte</p>";
pub const NESTED_ALT_MIME: &str = "Content-Type: multipart/alternative; boundary=inner\r\n\r\n";
pub const NESTED_HTML_MIME: &str = "Content-Type: text/html; charset=us-ascii\r\n\r\n";
pub const INNER_HEADER: &str = "From: Bob <b@y.fr>\r\nSubject: inner\r\n\r\n";
pub const INNER_BODY: &str = "Inner body\r\n";
pub const NESTED_HEADER: &str =
    "From: a@x.fr\r\nSubject: nested\r\nContent-Type: multipart/mixed; boundary=outer\r\n\r\n";

/// The body of the multipart/alternative part (part 1 of the nested message).
pub fn nested_alternative_body() -> String {
    format!(
        "--inner\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n{NESTED_PLAIN}\r\n--inner\r\n{NESTED_HTML_MIME}{NESTED_HTML}\r\n--inner--"
    )
}

pub fn inner_message() -> String {
    format!("{INNER_HEADER}{INNER_BODY}")
}

/// multipart/mixed ( multipart/alternative (text/plain, text/html), message/rfc822 ).
pub fn nested_message() -> String {
    format!(
        "{NESTED_HEADER}--outer\r\n{NESTED_ALT_MIME}{alt}\r\n--outer\r\nContent-Type: message/rfc822\r\nContent-Description: forwarded\r\n\r\n{inner}\r\n--outer--\r\n",
        alt = nested_alternative_body(),
        inner = inner_message(),
    )
}

pub const INTERNATIONAL: &str = concat!(
    "Date: Tue, 24 Nov 2026 08:30:00 +0100\r\n",
    "From: =?ISO-8859-1?Q?Fran=E7ois_M=FCller?= <francois.muller@hopital.mssante.fr>\r\n",
    "Sender: secretariat@hopital.mssante.fr\r\n",
    "Reply-To: \"Équipe cardiologie\" <cardio@hopital.mssante.fr>\r\n",
    "To: Equipe soins: infirmier@chu.mssante.fr,\r\n \"Médecin, Chef\" <chef@chu.mssante.fr>;\r\n",
    "Cc: undisclosed-recipients:;\r\n",
    "Subject: Résultats\r\n d'analyse\r\n",
    "In-Reply-To: <prev@chu.mssante.fr>\r\n",
    "Message-ID: <m4@hopital.mssante.fr>\r\n",
    "\r\n",
    "Résultats joints.\r\n",
);
