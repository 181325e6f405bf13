//! Opening an extraction file, plain or zipped (first `.txt` entry), and reading it line by
//! line with a bound on line length.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use crate::error::{Error, Result};

/// Longest line accepted; real lines are under 2 KiB.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

const ZIP_MAGIC: &[u8; 4] = b"PK\x03\x04";
const READ_BUFFER: usize = 256 * 1024;

/// Calls `read` with the file's uncompressed content and its uncompressed size.
pub(crate) fn with_input<T>(
    path: &Path,
    read: impl FnOnce(&mut dyn BufRead, u64) -> Result<T>,
) -> Result<T> {
    let io_err = |e: std::io::Error| Error::Io {
        path: path.to_path_buf(),
        detail: e.to_string(),
    };
    let mut file = File::open(path).map_err(io_err)?;
    let size = file.metadata().map_err(io_err)?.len();
    let mut magic = [0u8; 4];
    let got = read_up_to(&mut file, &mut magic).map_err(io_err)?;
    file.seek(SeekFrom::Start(0)).map_err(io_err)?;
    if got == 4 && &magic == ZIP_MAGIC {
        let zip_err = |detail: String| Error::Zip {
            path: path.to_path_buf(),
            detail,
        };
        let mut archive = zip::ZipArchive::new(file).map_err(|e| zip_err(e.to_string()))?;
        let index = (0..archive.len())
            .find(|&i| {
                archive
                    .name_for_index(i)
                    .and_then(|name| name.ok())
                    .is_some_and(|name| name.to_ascii_lowercase().ends_with(".txt"))
            })
            .ok_or_else(|| zip_err("the archive holds no .txt entry".to_owned()))?;
        let entry = archive
            .by_index(index)
            .map_err(|e| zip_err(format!("entry {index}: {e}")))?;
        let total = entry.size();
        let mut reader = BufReader::with_capacity(READ_BUFFER, entry);
        read(&mut reader, total)
    } else {
        let mut reader = BufReader::with_capacity(READ_BUFFER, file);
        read(&mut reader, size)
    }
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// One line read by [`read_line`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum LineRead {
    /// A line is in the buffer, without its `\n` or `\r\n`.
    Line,
    /// The line exceeded `max` bytes; it was consumed but not kept.
    TooLong,
    End,
}

/// Reads the next line into `buf` (cleared first), never holding more than `max` bytes.
/// Returns the bytes consumed alongside the outcome, for progress.
pub(crate) fn read_line(
    reader: &mut dyn BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<(LineRead, usize)> {
    buf.clear();
    let mut consumed = 0usize;
    let mut too_long = false;
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            let outcome = if consumed == 0 {
                LineRead::End
            } else if too_long {
                LineRead::TooLong
            } else {
                LineRead::Line
            };
            strip_cr(buf);
            return Ok((outcome, consumed));
        }
        let (chunk, found) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (&available[..i], Some(i + 1)),
            None => (available, None),
        };
        if !too_long {
            if buf.len() + chunk.len() > max {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(chunk);
            }
        }
        let used = found.unwrap_or(available.len());
        reader.consume(used);
        consumed += used;
        if found.is_some() {
            strip_cr(buf);
            let outcome = if too_long {
                LineRead::TooLong
            } else {
                LineRead::Line
            };
            return Ok((outcome, consumed));
        }
    }
}

fn strip_cr(buf: &mut Vec<u8>) {
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_bounded_lines() {
        type Expected<'a> = &'a [(&'a [u8], LineRead)];
        let cases: &[(&[u8], usize, Expected)] = &[
            (
                b"a|b\nc\r\n",
                10,
                &[(b"a|b", LineRead::Line), (b"c", LineRead::Line)],
            ),
            (b"no newline", 10, &[(b"no newline", LineRead::Line)]),
            (b"\n\n", 10, &[(b"", LineRead::Line), (b"", LineRead::Line)]),
            (
                b"0123456789AB\nok\n",
                10,
                &[(b"", LineRead::TooLong), (b"ok", LineRead::Line)],
            ),
            (b"", 10, &[]),
        ];
        for (input, max, expected) in cases {
            // A tiny buffer makes lines span several fills.
            let mut reader = BufReader::with_capacity(3, *input);
            let mut buf = Vec::new();
            let mut got = Vec::new();
            let mut total = 0;
            loop {
                let (outcome, used) = read_line(&mut reader, &mut buf, *max).unwrap();
                total += used;
                if outcome == LineRead::End {
                    break;
                }
                got.push((buf.clone(), outcome));
            }
            let expected: Vec<_> = expected
                .iter()
                .map(|(b, o)| {
                    (
                        b.to_vec(),
                        match o {
                            LineRead::Line => LineRead::Line,
                            LineRead::TooLong => LineRead::TooLong,
                            LineRead::End => LineRead::End,
                        },
                    )
                })
                .collect();
            assert_eq!(got, expected, "{input:?}");
            assert_eq!(total, input.len(), "{input:?}");
        }
    }
}
