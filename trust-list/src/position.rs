//! Byte offsets to line and column, for error messages.

use crate::error::Position;

/// Turns increasing byte offsets into positions in one pass over the input overall: it
/// remembers where the last lookup ended instead of counting from the start each time.
pub(crate) struct LineIndex<'a> {
    input: &'a [u8],
    scanned: usize,
    line: u64,
    line_start: usize,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(input: &'a [u8]) -> Self {
        LineIndex {
            input,
            scanned: 0,
            line: 1,
            line_start: 0,
        }
    }

    /// The position of byte `offset` (clamped to the input length). Offsets smaller than a
    /// previous one restart the count from the beginning.
    pub(crate) fn position(&mut self, offset: u64) -> Position {
        let offset = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.input.len());
        if offset < self.scanned {
            *self = LineIndex::new(self.input);
        }
        for (i, byte) in self.input[self.scanned..offset].iter().enumerate() {
            if *byte == b'\n' {
                self.line += 1;
                self.line_start = self.scanned + i + 1;
            }
        }
        self.scanned = offset;
        Position {
            line: self.line,
            column: (offset - self.line_start) as u64 + 1,
            offset: offset as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_table() {
        let input = b"ab\ncd\n\nef";
        // (offset, line, column), increasing then decreasing to exercise the restart.
        let cases = [
            (0, 1, 1),
            (1, 1, 2),
            (3, 2, 1),
            (4, 2, 2),
            (6, 3, 1),
            (7, 4, 1),
            (9, 4, 3),
            (99, 4, 3),
            (2, 1, 3),
        ];
        let mut index = LineIndex::new(input);
        for (offset, line, column) in cases {
            let p = index.position(offset);
            assert_eq!((p.line, p.column), (line, column), "offset {offset}");
        }
    }
}
