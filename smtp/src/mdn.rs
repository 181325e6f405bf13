//! The integration-error MDN (RFC 8098 `multipart/report`, in the ANS form of the volet
//! "Transmission au LPS de documents CDA provenant d'un courriel MSSanté"): sent to the
//! sender who asked for one (`Disposition-Notification-To`) when a document is refused for
//! a citizen, with `Disposition: …; processed/Error: <code>^<label>` (the ANS form; the
//! RFC 8098 `Error:` field repeats it) and the original IHE_XDM.zip re-attached.

use base64::Engine;
use mssd_core::Address;

/// One refusal to report.
pub struct MdnError<'a> {
    /// Our host name (`Reporting-UA`, Message-ID).
    pub host: &'a str,
    /// The domain of the `From:` (`MAILER-DAEMON@…`), never the citizen's address.
    pub from_domain: &'a str,
    pub to: &'a Address,
    pub final_recipient: &'a Address,
    pub original_recipient: Option<&'a str>,
    pub original_message_id: Option<&'a str>,
    pub original_subject: &'a str,
    pub code: u16,
    pub label: &'a str,
    pub message_id: &'a str,
    pub date: &'a str,
    pub xdm: Option<&'a [u8]>,
}

pub fn build(m: &MdnError<'_>) -> Vec<u8> {
    let boundary = format!(
        "mdn-{}",
        m.message_id
            .trim_matches(['<', '>'])
            .replace(['@', '.'], "-")
    );
    let subject = format!(
        "[KO Intégration système !][{}] {}",
        m.code,
        one_line(m.original_subject)
    );
    let mut out = format!(
        "From: MAILER-DAEMON@{from}\r\nTo: <{to}>\r\nSubject: =?utf-8?B?{subject}?=\r\nDate: {date}\r\nMessage-ID: {id}\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=disposition-notification; boundary=\"{boundary}\"\r\n\r\n",
        from = m.from_domain,
        to = m.to,
        subject = base64::engine::general_purpose::STANDARD.encode(subject),
        date = m.date,
        id = m.message_id,
    );
    out.push_str(&format!(
        "--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nLe document n'a pas été remis au patient : erreur {code} ({label}).\r\nThe document was not delivered to the patient: error {code} ({label}).\r\n\r\n",
        code = m.code,
        label = m.label
    ));
    out.push_str(&format!("--{boundary}\r\nContent-Type: message/disposition-notification\r\n\r\nReporting-UA: {}; mssd\r\n", m.host));
    if let Some(original) = m.original_recipient {
        out.push_str(&format!(
            "Original-Recipient: rfc822; {}\r\n",
            one_line(original)
        ));
    }
    out.push_str(&format!(
        "Final-Recipient: rfc822; {}\r\n",
        m.final_recipient
    ));
    if let Some(id) = m.original_message_id {
        out.push_str(&format!("Original-Message-ID: {}\r\n", one_line(id)));
    }
    out.push_str(&format!(
        "Disposition: automatic-action/MDN-sent-automatically; processed/Error: {code}^{label}\r\nError: {code}^{label}\r\n\r\n",
        code = m.code,
        label = m.label
    ));
    if let Some(zip) = m.xdm {
        out.push_str(&format!(
            "--{boundary}\r\nContent-Type: application/zip; name=\"IHE_XDM.zip\"\r\nContent-Disposition: attachment; filename=\"IHE_XDM.zip\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        ));
        let encoded = base64::engine::general_purpose::STANDARD.encode(zip);
        for line in encoded.as_bytes().chunks(76) {
            out.push_str(std::str::from_utf8(line).unwrap_or_default());
            out.push_str("\r\n");
        }
    }
    out.push_str(&format!("--{boundary}--\r\n"));
    out.into_bytes()
}

/// A header value on one line, bounded.
fn one_line(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(900).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ans_form() {
        let to = Address::parse("dr@h.fr").unwrap();
        let citizen = Address::parse("279035121518989@patient.mssante.fr").unwrap();
        let mdn = build(&MdnError {
            host: "mail.h.fr",
            from_domain: "patient.mssante.fr",
            to: &to,
            final_recipient: &citizen,
            original_recipient: None,
            original_message_id: Some("<cr-1@h.fr>"),
            original_subject: "XDM/1.0/DDM+CR",
            code: 904,
            label: "INS or identity traits do not match",
            message_id: "<x.mdn@mail.h.fr>",
            date: "Fri, 04 Dec 2026 10:00:00 +0000",
            xdm: Some(b"PK"),
        });
        let text = String::from_utf8(mdn).unwrap();
        assert!(text.contains("report-type=disposition-notification"));
        assert!(text.contains("Disposition: automatic-action/MDN-sent-automatically; processed/Error: 904^INS or identity traits do not match\r\n"));
        assert!(text.contains("Final-Recipient: rfc822; 279035121518989@patient.mssante.fr\r\n"));
        assert!(text.contains("Original-Message-ID: <cr-1@h.fr>\r\n"));
        assert!(text.contains("filename=\"IHE_XDM.zip\""));
        assert!(text.starts_with("From: MAILER-DAEMON@patient.mssante.fr\r\nTo: <dr@h.fr>\r\n"));
    }
}
