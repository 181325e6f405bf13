//! IMAP session input after login: APPEND literals, the 64 KiB command lines.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "imap_common.rs"]
mod imap_common;

fuzz_target!(|data: &[u8]| imap_common::run(data, true));
