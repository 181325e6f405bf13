//! The command texts the IMAP session reads itself, and mailbox names: an extended LIST line
//! (`list_extended`), ESEARCH/ESORT options and `$` (`search_return`) must parse or refuse
//! without panicking; modified UTF-7 must give back any UTF-8 name it encoded, and decode
//! only to names it would encode the same way.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mssd_imap::{list_extended, mutf7, search_return};

fuzz_target!(|data: &[u8]| {
    let _ = list_extended::parse(data);
    let _ = list_extended::is_extended(data);
    let _ = search_return::split_return(data);
    if let Some(substituted) = search_return::substitute_saved(data) {
        assert!(substituted.len() > data.len());
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let encoded = mutf7::encode(text);
        assert!(encoded.is_ascii());
        assert_eq!(mutf7::decode(&encoded).as_deref(), Some(text));
        if let Some(decoded) = mutf7::decode(text) {
            assert_eq!(mutf7::encode(&decoded), text);
        }
    }
});
