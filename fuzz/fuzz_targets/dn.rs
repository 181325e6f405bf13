//! Distinguished names as the liste blanche and configuration write them (RFC 4514 text):
//! parsing, then the canonical form, which must parse back to the same name.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mssd_certs::DistinguishedName;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(dn) = DistinguishedName::parse(text) {
        let canonical = dn.canonical();
        let _ = dn.first("CN");
        let _ = dn.values("OU");
        if let Ok(again) = DistinguishedName::parse(&dn.to_string()) {
            assert_eq!(again.canonical(), canonical, "{text:?}");
        }
    }
});
