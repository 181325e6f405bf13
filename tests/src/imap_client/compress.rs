//! COMPRESS=DEFLATE (RFC 4978) for the test client: raw DEFLATE both ways, a sync flush after
//! each write so the server can read every command at once.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use std::io;

pub(super) struct Deflate {
    compress: Compress,
    decompress: Decompress,
}

impl Deflate {
    pub(super) fn new() -> Deflate {
        Deflate {
            compress: Compress::new(Compression::default(), false),
            decompress: Decompress::new(false),
        }
    }

    /// `bytes` compressed and sync-flushed.
    pub(super) fn deflate(&mut self, mut bytes: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::with_capacity(bytes.len() / 2 + 64);
        loop {
            out.reserve(bytes.len() / 2 + 64);
            let before = self.compress.total_in();
            self.compress
                .compress_vec(bytes, &mut out, FlushCompress::Sync)
                .map_err(io::Error::other)?;
            let used = (self.compress.total_in() - before) as usize;
            bytes = &bytes[used..];
            // Done once all input is taken and the flush left room to spare.
            if bytes.is_empty() && out.len() < out.capacity() {
                return Ok(out);
            }
        }
    }

    /// Inflates `wire` onto the end of `out`.
    pub(super) fn inflate(&mut self, mut wire: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
        while !wire.is_empty() {
            out.reserve(wire.len() * 4 + 1024);
            let before = self.decompress.total_in();
            let status = self
                .decompress
                .decompress_vec(wire, out, FlushDecompress::Sync)
                .map_err(io::Error::other)?;
            let used = (self.decompress.total_in() - before) as usize;
            wire = &wire[used..];
            if status == Status::StreamEnd {
                return Err(io::Error::other("the server ended the compressed stream"));
            }
        }
        Ok(())
    }
}
