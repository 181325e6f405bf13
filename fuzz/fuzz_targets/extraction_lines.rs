//! Lines of the national extraction files (Extraction_Correspondance_MSSante_*,
//! PS_LibreAcces_Personne_activite_*): the sans-I/O parser fed line by line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mssd_annuaire::extraction::ExtractionParser;

fuzz_target!(|data: &[u8]| {
    let mut parser = ExtractionParser::new();
    for line in data.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if parser.feed(line).is_err() {
            break;
        }
    }
    let _ = parser.counts();
});
