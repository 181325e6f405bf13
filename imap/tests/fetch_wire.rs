//! The direct FETCH encoder writes exactly what imap-codec writes for the same items.

mod common;

use common::*;
use imap_codec::encode::Encoder;
use imap_codec::imap_types::command::CommandBody;
use imap_codec::imap_types::response::{Data, Response};
use imap_codec::{CommandCodec, ResponseCodec, decode::Decoder};
use mssd_imap::fetch::{items, plan, wire};
use mssd_imap::summary::Summary;
use mssd_store::MessageMeta;

fn plan_of(command: &str, condstore: bool) -> mssd_imap::fetch::FetchPlan {
    let line = format!("a {command}\r\n");
    let (_, parsed) = CommandCodec::default()
        .decode_static(line.as_bytes())
        .unwrap();
    match parsed.body {
        CommandBody::Fetch {
            macro_or_item_names,
            uid,
            ..
        } => plan(&macro_or_item_names, uid, condstore),
        other => panic!("not a FETCH: {other:?}"),
    }
}

#[test]
fn direct_encoding_matches_the_generic_encoder() {
    let messages = [
        PLAIN.to_owned(),
        INTERNATIONAL.to_owned(),
        xdm_message(),
        nested_message(),
        "no header at all".to_owned(),
    ];
    let commands = [
        ("FETCH 1:* (FLAGS ENVELOPE)", false),
        ("UID FETCH 1:* (FLAGS ENVELOPE RFC822.SIZE)", true),
        ("FETCH 1 (ENVELOPE UID FLAGS)", true),
        ("FETCH 1 FLAGS", false),
    ];
    let flag_sets: [&[&str]; 3] = [&[], &["\\Seen", "\\Flagged"], &["$Label1", "\\Answered"]];
    for message in &messages {
        let summary = Summary::of(message.as_bytes());
        for (command, condstore) in commands {
            let plan = plan_of(command, condstore);
            assert!(wire::direct(&plan), "{command}");
            for flags in flag_sets {
                let flags: Vec<String> = flags.iter().map(|f| f.to_string()).collect();
                let meta = MessageMeta {
                    uid: 77,
                    modseq: 12,
                    flags: flags.clone(),
                    size: message.len() as u64,
                    internal_date: 0,
                    sha256: String::new(),
                };
                let generic = items(&plan, &meta, &flags, Some(&summary), None).unwrap();
                let data = Data::Fetch {
                    seq: std::num::NonZeroU32::new(5).unwrap(),
                    items: generic,
                };
                let expected = ResponseCodec::default()
                    .encode(&Response::Data(data))
                    .dump();
                let mut direct = Vec::new();
                wire::write_fetch(&mut direct, 5, &plan, &meta, &flags, Some(&summary));
                assert_eq!(
                    String::from_utf8_lossy(&direct),
                    String::from_utf8_lossy(&expected),
                    "{command} {flags:?}"
                );
            }
        }
    }
}

#[test]
fn body_sections_and_dates_take_the_generic_path() {
    for command in [
        "FETCH 1 (FLAGS BODY.PEEK[])",
        "FETCH 1 (INTERNALDATE)",
        "FETCH 1 BODYSTRUCTURE",
        "FETCH 1 ALL",
    ] {
        assert!(!wire::direct(&plan_of(command, false)), "{command}");
    }
}
