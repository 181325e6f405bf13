//! IMAP session input before login: the limits of a client that has not authenticated.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "imap_common.rs"]
mod imap_common;

fuzz_target!(|data: &[u8]| imap_common::run(data, false));
