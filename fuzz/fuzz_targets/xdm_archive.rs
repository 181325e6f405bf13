//! An IHE_XDM.zip as a sender could craft it: any bytes give a package or a typed error,
//! never a panic, a hang, or memory beyond the limits (small ones here, so the fuzzer
//! reaches every check).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mssd_cda::{XdmLimits, package};

fuzz_target!(|data: &[u8]| {
    let limits = XdmLimits {
        max_entries: 16,
        max_entry_size: 256 * 1024,
        max_total_size: 1024 * 1024,
        max_ratio: 100,
        max_xml_nodes: 20_000,
    };
    if let Ok(p) = package::read(data, &limits) {
        let _ = p.codes();
        for d in &p.documents {
            let _ = d.cda.has_qualified_ins(&["1.2.250.1.213.1.4.10".to_string()]);
        }
    }
});
