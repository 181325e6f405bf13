//! COMPRESS=DEFLATE (RFC 4978): raw DEFLATE (RFC 1951, no zlib header) in both directions
//! from the first octet after the tagged OK. Output is flushed with a sync flush each time it
//! is written, so a response never waits in the compressor. Input is inflated in bounded
//! pieces, each passed through the input gate before the next is produced: a small input that
//! inflates to gigabytes meets the same line and literal limits as plain input.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// Inflated bytes handed on at a time.
const INFLATE_PIECE: usize = 16 * 1024;

pub(crate) struct Deflate {
    inflater: Decompress,
    deflater: Compress,
    inflated: Box<[u8]>,
    deflated: Vec<u8>,
}

/// The compressed stream cannot be read (corrupt, or not DEFLATE).
#[derive(Debug)]
pub(crate) struct CorruptStream;

impl Deflate {
    pub(crate) fn new() -> Deflate {
        Deflate {
            // false: raw DEFLATE, as RFC 4978 requires (window bits -15).
            inflater: Decompress::new(false),
            deflater: Compress::new(Compression::new(6), false),
            inflated: vec![0; INFLATE_PIECE].into_boxed_slice(),
            deflated: Vec::new(),
        }
    }

    /// Inflates `input`, handing each piece of plain bytes to `sink` before producing the
    /// next; stops at the first error `sink` returns.
    pub(crate) fn inflate<E>(
        &mut self,
        mut input: &[u8],
        mut sink: impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<Result<(), E>, CorruptStream> {
        loop {
            let (before_in, before_out) = (self.inflater.total_in(), self.inflater.total_out());
            let status = self
                .inflater
                .decompress(input, &mut self.inflated, FlushDecompress::None)
                .map_err(|_| CorruptStream)?;
            let used = (self.inflater.total_in() - before_in) as usize;
            let produced = (self.inflater.total_out() - before_out) as usize;
            input = &input[used..];
            if produced > 0
                && let Err(e) = sink(&self.inflated[..produced])
            {
                return Ok(Err(e));
            }
            // The client ended its DEFLATE stream: nothing may follow on this connection.
            if status == Status::StreamEnd && !input.is_empty() {
                return Err(CorruptStream);
            }
            // Done when all input is used and the last call filled less than the buffer
            // (nothing is held back for want of room).
            if input.is_empty() && produced < self.inflated.len() {
                return Ok(Ok(()));
            }
            if used == 0 && produced == 0 {
                return Ok(Ok(()));
            }
        }
    }

    /// `bytes` compressed and sync-flushed: everything needed to read them is in the result.
    pub(crate) fn deflate(&mut self, bytes: &[u8]) -> &[u8] {
        self.deflated.clear();
        self.deflated.reserve(bytes.len() / 2 + 64);
        let mut input = bytes;
        loop {
            if self.deflated.capacity() - self.deflated.len() < 64 {
                self.deflated.reserve(self.deflated.capacity().max(1024));
            }
            let before = self.deflater.total_in();
            // compress_vec writes into the spare capacity and never fails on valid state.
            let _ = self
                .deflater
                .compress_vec(input, &mut self.deflated, FlushCompress::Sync);
            input = &input[(self.deflater.total_in() - before) as usize..];
            // A sync flush is complete once all input is taken and room was left over.
            if input.is_empty() && self.deflated.capacity() - self.deflated.len() >= 64 {
                return &self.deflated;
            }
        }
    }

    /// Gives back the output buffer's capacity after a large response.
    pub(crate) fn shrink(&mut self) {
        if self.deflated.capacity() > 256 * 1024 {
            self.deflated = Vec::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the server writes, read back by an independent inflater; and what a client
    /// compresses, read by the server's, in pieces of every size.
    #[test]
    fn round_trips_in_both_directions() {
        let text: Vec<u8> = (0..20_000)
            .flat_map(|i| format!("* {i} FETCH (FLAGS (\\Seen) UID {i})\r\n").into_bytes())
            .collect();
        let mut server = Deflate::new();
        let mut client_in = Decompress::new(false);
        let mut received = Vec::with_capacity(text.len() * 2);
        let mut sent = 0;
        for piece in text.chunks(70_000) {
            let wire = server.deflate(piece).to_vec();
            assert!(wire.len() < piece.len(), "compressed");
            client_in
                .decompress_vec(&wire, &mut received, FlushDecompress::Sync)
                .unwrap();
            // Each piece is readable as soon as it is written (sync flush).
            sent += piece.len();
            assert_eq!(received.len(), sent);
        }
        assert_eq!(received, text);

        let mut client_out = Compress::new(Compression::fast(), false);
        let mut wire = Vec::with_capacity(text.len());
        client_out
            .compress_vec(&text, &mut wire, FlushCompress::Finish)
            .unwrap();
        for piece_size in [1, 7, 4096, wire.len()] {
            let mut server = Deflate::new();
            let mut got = Vec::new();
            for piece in wire.chunks(piece_size) {
                let outcome = server.inflate(piece, |plain| {
                    got.extend_from_slice(plain);
                    Ok::<(), ()>(())
                });
                assert!(matches!(outcome, Ok(Ok(()))));
            }
            assert_eq!(got, text, "pieces of {piece_size}");
        }
    }

    #[test]
    fn a_small_input_inflating_to_a_lot_comes_out_in_bounded_pieces() {
        let mut client_out = Compress::new(Compression::best(), false);
        let mut wire = Vec::new();
        let zeros = vec![b'a'; 10 << 20];
        wire.reserve(64 * 1024);
        client_out
            .compress_vec(&zeros, &mut wire, FlushCompress::Sync)
            .unwrap();
        assert!(wire.len() < 64 * 1024);
        let mut server = Deflate::new();
        let mut pieces = 0;
        let outcome = server.inflate(&wire, |plain| {
            assert!(plain.len() <= INFLATE_PIECE);
            pieces += 1;
            // The gate refuses the endless line after a few pieces: inflating stops there.
            if pieces == 3 {
                Err("line too long")
            } else {
                Ok(())
            }
        });
        assert!(matches!(outcome, Ok(Err("line too long"))));
    }

    #[test]
    fn garbage_is_a_corrupt_stream() {
        let mut server = Deflate::new();
        let outcome = server.inflate(b"\xff\xff\xff\xff not deflate", |_| Ok::<(), ()>(()));
        assert!(outcome.is_err());
    }
}
