//! Every walker over a stored message: BODYSTRUCTURE and BODY, ENVELOPE, BODY[section] for
//! paths taken from the input, the summary cache entry, SEARCH on header, body and text, the
//! address and header-field parsers, and the SMTP side's header functions. Input: one byte
//! choosing a part path, then the message.
#![no_main]

use std::num::NonZeroU32;

use imap_codec::imap_types::core::{AString, Vec1};
use imap_codec::imap_types::fetch::{Part, Section};
use imap_codec::imap_types::search::SearchKey;
use libfuzzer_sys::fuzz_target;
use mssd_imap::mime::{body_structure, envelope, header_fields, parse_address_list, section};
use mssd_imap::search::{SearchScope, matches};
use mssd_imap::summary::Summary;
use mssd_smtp::message::headers;
use mssd_store::MessageMeta;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, message)) = data.split_first() else {
        return;
    };
    let _ = body_structure(message, true);
    let _ = body_structure(message, false);
    let _ = envelope(message);
    let summary = Summary::of(message);
    let _ = summary.structures_of(message);

    // A part path like 1.2.1 from the selector's bits, and the section kinds on it.
    let path: Vec<NonZeroU32> = (0..(selector % 6))
        .map(|i| NonZeroU32::new(u32::from((selector >> i) & 3) + 1).unwrap_or(NonZeroU32::MIN))
        .collect();
    let _ = section(message, None, None);
    let _ = section(
        message,
        Some(&Section::Text(None)),
        Some((3, NonZeroU32::MIN)),
    );
    if let Ok(path) = Vec1::try_from(path) {
        let part = Part(path);
        let _ = section(message, Some(&Section::Part(part.clone())), None);
        let _ = section(message, Some(&Section::Mime(part.clone())), None);
        let _ = section(message, Some(&Section::Header(Some(part.clone()))), None);
        let _ = section(message, Some(&Section::Text(Some(part))), None);
    }

    let meta = MessageMeta {
        uid: 1,
        modseq: 1,
        flags: Vec::new(),
        size: message.len() as u64,
        internal_date: 0,
        sha256: String::new(),
    };
    let scope = SearchScope {
            uids: &[1],
            recent: &[],
        };
    let needle = || AString::try_from("mssante").expect("an atom");
    for key in [
        SearchKey::Body(needle()),
        SearchKey::Text(needle()),
        SearchKey::From(needle()),
        SearchKey::Subject(needle()),
    ] {
        let _ = matches(&[key], &scope, 0, &meta, Some(message));
    }

    let (header, _) = mssd_imap::mime::split_header_body(message);
    for field in header_fields(header) {
        let _ = parse_address_list(field.value);
    }
    let block = headers::header_block_len(message);
    let _ = headers::header_insert_point(message);
    let _ = headers::field_value(&message[..block.min(message.len())], "Message-ID");
    let _ = headers::has_field(&message[..block.min(message.len())], "Date");
});
