//! Realistic mailbox content for the IMAP benchmark: 2–20 KB messages between health
//! professionals, plain text or multipart with an attachment, dated 2018–2026, with subjects
//! drawn from a small vocabulary so that SEARCH SUBJECT finds a predictable share of them.
//! Deterministic: message `index` of seed `seed` is always the same bytes.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;
use time::macros::format_description;

/// The words subjects start with; SEARCH SUBJECT "<word>" matches about 1/len of a folder.
pub const SUBJECT_WORDS: [&str; 8] = [
    "ordonnance",
    "radiologie",
    "biologie",
    "hospitalisation",
    "consultation",
    "courrier",
    "cardiologie",
    "vaccination",
];

pub const MIN_SIZE: usize = 2 * 1024;
pub const MAX_SIZE: usize = 20 * 1024;

/// 2018-01-01 and 2026-06-01 (UTC), the span of internal and Date: dates.
const FIRST_DATE: i64 = 1_514_764_800;
const LAST_DATE: i64 = 1_780_272_000;

const SENTENCES: [&str; 8] = [
    "Je vous adresse ce patient pour avis concernant la prise en charge envisagée.",
    "Le bilan biologique montre une fonction rénale stable et une NFS sans anomalie.",
    "L'examen clinique est rassurant ; nous proposons une réévaluation dans trois mois.",
    "Le traitement actuel est poursuivi sans modification de posologie.",
    "Vous trouverez ci-joint le compte rendu détaillé ainsi que les images de l'examen.",
    "Merci de bien vouloir me tenir informé de l'évolution et des résultats complémentaires.",
    "Le patient a été informé des bénéfices et des risques et a donné son accord.",
    "Une consultation de suivi est programmée au service avec le docteur référent.",
];

/// One message ready to APPEND.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchMessage {
    pub bytes: Vec<u8>,
    /// IMAP date-time for APPEND, e.g. "05-Mar-2021 14:07:00 +0000".
    pub internal_date: String,
    /// IMAP flag list for APPEND, e.g. "(\\Seen)" or "()".
    pub flags: &'static str,
    pub subject_word: &'static str,
    pub multipart: bool,
}

/// Message `index` of the content seeded by `seed`, `domain` naming sender and recipient.
pub fn bench_message(seed: u64, index: usize, domain: &str) -> BenchMessage {
    let mut rng = StdRng::seed_from_u64(seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let size = rng.gen_range(MIN_SIZE..=MAX_SIZE);
    let when = OffsetDateTime::from_unix_timestamp(rng.gen_range(FIRST_DATE..LAST_DATE))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let word = SUBJECT_WORDS[rng.gen_range(0..SUBJECT_WORDS.len())];
    let multipart = rng.gen_bool(0.4);
    let flags = match rng.gen_range(0..10) {
        0..=5 => "(\\Seen)",
        6 => "(\\Seen \\Flagged)",
        _ => "()",
    };
    let date = when.format(&Rfc2822).unwrap_or_default();
    let internal_date = when
        .format(format_description!(
            "[day]-[month repr:short]-[year] [hour]:[minute]:[second] +0000"
        ))
        .unwrap_or_default();
    let sender = rng.gen_range(1..200);
    let mut out = format!(
        "Return-Path: <medecin{sender}@{domain}>\r\n\
         From: \"Docteur {sender}\" <medecin{sender}@{domain}>\r\n\
         To: \"Secretariat\" <secretariat@{domain}>\r\n\
         Cc: <archives@{domain}>\r\n\
         Subject: {word} patient {index} - suivi\r\n\
         Date: {date}\r\n\
         Message-ID: <bench-{seed}-{index}@{domain}>\r\n\
         X-Mailer: mssd-bench\r\n\
         MIME-Version: 1.0\r\n"
    );
    if multipart {
        let boundary = format!("=_bench_{index}_{seed}");
        out.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n\
             This is a multi-part message in MIME format.\r\n\
             --{boundary}\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\
             Content-Transfer-Encoding: 8bit\r\n\r\n"
        ));
        let text_size = size / 4;
        let until = out.len() + text_size;
        push_text(&mut out, &mut rng, until);
        let attachment = if rng.gen_bool(0.5) {
            ("application/zip", "IHE_XDM.zip")
        } else {
            ("application/pdf", "compte-rendu.pdf")
        };
        out.push_str(&format!(
            "\r\n--{boundary}\r\n\
             Content-Type: {}; name=\"{}\"\r\n\
             Content-Disposition: attachment; filename=\"{}\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n",
            attachment.0, attachment.1, attachment.1
        ));
        let closing = format!("\r\n--{boundary}--\r\n");
        push_base64(&mut out, &mut rng, size.saturating_sub(closing.len()));
        out.push_str(&closing);
    } else {
        out.push_str(
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
        );
        push_text(&mut out, &mut rng, size);
    }
    BenchMessage {
        bytes: out.into_bytes(),
        internal_date,
        flags,
        subject_word: word,
        multipart,
    }
}

/// Appends lines of prose (CRLF-terminated) until `out` reaches about `until` bytes.
fn push_text(out: &mut String, rng: &mut StdRng, until: usize) {
    while out.len() < until {
        let mut line = String::new();
        for _ in 0..rng.gen_range(1..4) {
            line.push_str(SENTENCES[rng.gen_range(0..SENTENCES.len())]);
            line.push(' ');
        }
        out.push_str(line.trim_end());
        out.push_str("\r\n");
    }
}

/// Appends 76-character base64-alphabet lines until `out` reaches about `until` bytes.
fn push_base64(out: &mut String, rng: &mut StdRng, until: usize) {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    while out.len() + 2 < until {
        let len = (until - out.len() - 2).min(76);
        // Whole base64 quanta so the part decodes.
        let len = (len / 4).max(1) * 4;
        for _ in 0..len {
            out.push(ALPHABET[rng.gen_range(0..ALPHABET.len())] as char);
        }
        out.push_str("\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_table() {
        // (seed, index): every message is within the size bounds (+ closing slack), CRLF only,
        // carries its subject word and a parseable internal date.
        let cases: Vec<(u64, usize)> = (0..200).map(|i| (7, i)).chain([(1, 0), (2, 0)]).collect();
        let mut multiparts = 0;
        for (seed, index) in cases {
            let m = bench_message(seed, index, "hopital-a.test.mssante.fr");
            let text = String::from_utf8(m.bytes.clone()).unwrap();
            assert!(
                (MIN_SIZE..=MAX_SIZE + 400).contains(&m.bytes.len()),
                "{seed}/{index}: {} bytes",
                m.bytes.len()
            );
            assert!(
                !text.replace("\r\n", "").contains('\n'),
                "bare LF in {seed}/{index}"
            );
            assert!(text.ends_with("\r\n"));
            assert!(text.contains(&format!("Subject: {} patient {index}", m.subject_word)));
            assert_eq!(m.internal_date.len(), "05-Mar-2021 14:07:00 +0000".len());
            if m.multipart {
                multiparts += 1;
                assert!(text.contains("Content-Disposition: attachment"));
            }
        }
        assert!(
            (40..120).contains(&multiparts),
            "{multiparts} multiparts of 202"
        );
    }

    #[test]
    fn deterministic_and_distinct() {
        let cases = [
            ((3, 5), (3, 5), true),
            ((3, 5), (3, 6), false),
            ((3, 5), (4, 5), false),
        ];
        for ((s1, i1), (s2, i2), same) in cases {
            let a = bench_message(s1, i1, "a.fr");
            let b = bench_message(s2, i2, "a.fr");
            assert_eq!(a == b, same, "({s1},{i1}) vs ({s2},{i2})");
        }
    }
}
