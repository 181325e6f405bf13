//! The sans-I/O extraction parser: feed it the lines of a file (without their line ending),
//! header first; it returns rows, counts everything, and keeps the first malformed lines.

use serde::{Deserialize, Serialize};

use super::columns::{ColumnMap, FileKind};
use super::encoding::{LineText, classify};
use super::rows::{Row, RowLayout};
use crate::error::{Error, Result};

/// Malformed lines whose number and reason are kept in the report.
pub const MAX_MALFORMED_KEPT: usize = 100;

/// A line that was skipped, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MalformedLine {
    /// 1-based, the header being line 1.
    pub line: u64,
    pub reason: String,
}

/// What the parser saw.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParseCounts {
    /// Data lines (header and blank lines excluded).
    pub lines: u64,
    pub blank_lines: u64,
    /// Lines turned into rows.
    pub accepted: u64,
    pub malformed: u64,
    /// The first [`MAX_MALFORMED_KEPT`] malformed lines.
    pub malformed_lines: Vec<MalformedLine>,
}

/// Parser state: waiting for the header, then reading rows.
#[derive(Debug, Default)]
pub struct ExtractionParser {
    layout: Option<RowLayout>,
    line: u64,
    counts: ParseCounts,
}

impl ExtractionParser {
    pub fn new() -> ExtractionParser {
        ExtractionParser::default()
    }

    /// The file kind, once the header is read.
    pub fn kind(&self) -> Option<FileKind> {
        self.layout.as_ref().map(|l| l.kind)
    }

    pub fn counts(&self) -> &ParseCounts {
        &self.counts
    }

    pub fn into_counts(self) -> ParseCounts {
        self.counts
    }

    /// Feeds the next line. `Ok(None)` for the header, blank and malformed lines. Errors stop
    /// the import: an unusable header, or a Latin-1 line.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Option<Row>> {
        self.line += 1;
        let text = match classify(bytes) {
            LineText::Utf8(text) => text,
            LineText::Latin1 => return Err(Error::Latin1 { line: self.line }),
            LineText::Invalid(reason) if self.layout.is_some() => {
                self.counts.lines += 1;
                self.malformed(reason);
                return Ok(None);
            }
            LineText::Invalid(reason) => {
                return Err(Error::UnknownHeader {
                    first_columns: vec![reason],
                });
            }
        };
        let Some(layout) = &self.layout else {
            let header = text.strip_prefix('\u{feff}').unwrap_or(text);
            let map = ColumnMap::from_header(header)?;
            self.layout = Some(RowLayout::new(&map));
            return Ok(None);
        };
        if text.trim().is_empty() {
            self.counts.blank_lines += 1;
            return Ok(None);
        }
        self.counts.lines += 1;
        let mut fields = Vec::with_capacity(layout.width + 1);
        let parsed = layout
            .split(text, &mut fields)
            .and_then(|()| layout.row(&fields));
        match parsed {
            Ok(row) => {
                self.counts.accepted += 1;
                Ok(Some(row))
            }
            Err(reason) => {
                self.malformed(reason);
                Ok(None)
            }
        }
    }

    /// Counts a line that is too long to be read, without feeding its bytes.
    pub fn skip_overlong(&mut self, limit: usize) {
        self.line += 1;
        self.counts.lines += 1;
        self.malformed(format!("line longer than {limit} bytes"));
    }

    fn malformed(&mut self, reason: String) {
        self.counts.malformed += 1;
        if self.counts.malformed_lines.len() < MAX_MALFORMED_KEPT {
            self.counts.malformed_lines.push(MalformedLine {
                line: self.line,
                reason,
            });
        }
    }
}
