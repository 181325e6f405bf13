//! Import of the national extraction files (`Extraction_Correspondance_MSSante_*.txt`,
//! `PS_LibreAcces_Personne_activite_*.txt`, plain or zipped).

mod columns;
mod encoding;
mod import;
mod input;
mod parser;
#[cfg(test)]
mod parser_tests;
mod progress;
mod report;
mod rows;

pub use columns::FileKind;
pub use import::{
    DEFAULT_MAX_BYTES, DEFAULT_MAX_LINES, DEFAULT_MAX_REMOVAL_SHARE, DIFF_SAMPLE, ImportOptions,
    import_file,
};
pub use input::MAX_LINE_BYTES;
pub use parser::{ExtractionParser, MAX_MALFORMED_KEPT, MalformedLine, ParseCounts};
pub use progress::ProgressMode;
pub use report::{ImportReport, diff_document, report_document};
pub use rows::Row;
