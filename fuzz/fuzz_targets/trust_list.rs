//! The liste blanche parser (XML from the ANS): any bytes give a list or an error, never a
//! panic, a hang or unbounded memory; lookups work on whatever was parsed.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(list) = mssd_trust_list::parse(data) {
        for entry in list.entries().take(8) {
            let domain = entry.domain().to_owned();
            assert!(list.is_listed(&domain));
            for operator in entry.operators().iter().take(4) {
                let _ = operator;
            }
        }
        let _ = list.domain_names();
    }
});
