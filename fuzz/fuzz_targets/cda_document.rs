//! A CDA document and a METADATA.XML as bytes: the streaming pass, the header tree, the
//! metadata parser and the embedded-document extraction (what the web mailbox shows) give a
//! result or a typed error, never a panic or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(header) = mssd_cda::header::parse("fuzz.xml", data, 20_000) {
        let _ = header.traits.complete();
        let _ = header.id.to_string();
    }
    let _ = mssd_cda::metadata::parse(data, 20_000);
    let _ = mssd_cda::embedded::content("fuzz.xml", data, 1 << 20);
    let _ = mssd_cda::read_message(data, &mssd_cda::XdmLimits::default());
});
