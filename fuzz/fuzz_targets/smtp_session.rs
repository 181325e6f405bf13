//! SMTP session input, as `smtp/src/session/input.rs` frames it: command lines through
//! smtp-proto's receiver (bounded), DATA with dot-unstuffing, BDAT chunks, the discarding of
//! an over-long line or an oversized message, AUTH response lines; then the header functions
//! the session runs on each message received (trace field insertion point, Message-ID, Date).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mssd_smtp::message::headers;
use smtp_proto::Request;
use smtp_proto::request::receiver::{
    BdatReceiver, DataReceiver, DummyDataReceiver, DummyLineReceiver, RequestReceiver,
};

/// Small, so the fuzzer reaches the oversize path.
const MAX_MESSAGE: usize = 4096;
const MAX_AUTH_LINE: usize = 16 * 1024;

enum Input {
    Command,
    SkipLine,
    Data(DataReceiver),
    Bdat(BdatReceiver),
    Discard(DummyDataReceiver),
    Auth(Vec<u8>),
}

fuzz_target!(|data: &[u8]| {
    let mut receiver = RequestReceiver::default();
    let mut input = Input::Command;
    let mut body = Vec::new();
    let mut iter = data.iter();
    for _ in 0..10_000 {
        if iter.as_slice().is_empty() {
            break;
        }
        input = match input {
            Input::Command => match receiver.ingest(&mut iter) {
                Ok(Request::Data) => Input::Data(DataReceiver::new()),
                Ok(Request::Bdat {
                    chunk_size,
                    is_last,
                }) => Input::Bdat(BdatReceiver::new(chunk_size, is_last)),
                Ok(Request::Auth { .. }) => Input::Auth(Vec::new()),
                Ok(_) => Input::Command,
                Err(smtp_proto::Error::NeedsMoreData { .. }) => break,
                Err(smtp_proto::Error::ResponseTooLong) => Input::SkipLine,
                Err(_) => Input::Command,
            },
            Input::SkipLine => match DummyLineReceiver::default().ingest(&mut iter) {
                true => Input::Command,
                false => Input::SkipLine,
            },
            Input::Data(mut data_receiver) => {
                let done = data_receiver.ingest(&mut iter, &mut body);
                if body.len() > MAX_MESSAGE {
                    body.clear();
                    Input::Discard(DummyDataReceiver::new_data(&data_receiver))
                } else if done {
                    message_received(&body);
                    body.clear();
                    Input::Command
                } else {
                    Input::Data(data_receiver)
                }
            }
            Input::Bdat(mut bdat) => {
                if bdat.ingest(&mut iter, &mut body) {
                    if bdat.is_last || body.len() > MAX_MESSAGE {
                        message_received(&body);
                        body.clear();
                    }
                    Input::Command
                } else {
                    Input::Bdat(bdat)
                }
            }
            Input::Discard(mut discard) => match discard.ingest(&mut iter) {
                true => Input::Command,
                false => Input::Discard(discard),
            },
            Input::Auth(mut line) => {
                let mut done = false;
                for &b in iter.by_ref() {
                    if b == b'\n' {
                        done = true;
                        break;
                    }
                    if line.len() < MAX_AUTH_LINE {
                        line.push(b);
                    }
                }
                if done {
                    let _ = mssd_auth::sasl::parse_plain(&line);
                    Input::Command
                } else {
                    Input::Auth(line)
                }
            }
        };
    }
});

fn message_received(message: &[u8]) {
    let block = headers::header_block_len(message).min(message.len());
    let _ = headers::header_insert_point(message);
    let _ = headers::field_value(&message[..block], "Message-ID");
    let _ = headers::has_field(&message[..block], "Date");
}
