//! Modified UTF-7 (RFC 3501 5.1.3), the form IMAP4rev1 gives non-ASCII mailbox names, and
//! the UTF-8 of IMAP4rev2 (RFC 9051 5.1). The store keeps names as IMAP4rev1 clients send
//! them; a session that enabled IMAP4rev2 reads and writes UTF-8, converted here.
//!
//! Printable ASCII stands for itself except `&`, written `&-`; other characters are written
//! as UTF-16 in a base64 whose 63rd digit is `,`, between `&` and `-`.

const DIGITS: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/// UTF-8 to modified UTF-7.
pub fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut pending: Vec<u16> = Vec::new();
    for c in name.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut pending, &mut out);
            out.push(c);
            if c == '&' {
                out.push('-');
            }
        } else {
            let mut units = [0u16; 2];
            pending.extend_from_slice(c.encode_utf16(&mut units));
        }
    }
    flush(&mut pending, &mut out);
    out
}

/// Writes `&<base64 of the UTF-16 units>-` for what is pending.
fn flush(pending: &mut Vec<u16>, out: &mut String) {
    if pending.is_empty() {
        return;
    }
    out.push('&');
    let bytes: Vec<u8> = pending.drain(..).flat_map(u16::to_be_bytes).collect();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        let digits = chunk.len() + 1;
        for i in 0..digits {
            out.push(char::from(DIGITS[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out.push('-');
}

/// Modified UTF-7 to UTF-8; None when it is not valid modified UTF-7 (raw 8-bit, a broken
/// base64 run, UTF-16 that does not decode, or ASCII written in base64).
pub fn decode(name: &str) -> Option<String> {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(at) = rest.find('&') {
        let before = &rest[..at];
        if !before.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
            return None;
        }
        out.push_str(before);
        let after = &rest[at + 1..];
        let end = after.find('-')?;
        let run = &after[..end];
        // Two runs in a row are one run written twice: not the canonical form.
        if !run.is_empty() && at == 0 && out.ends_with(|c: char| !(' '..='~').contains(&c)) {
            return None;
        }
        if run.is_empty() {
            out.push('&');
        } else {
            let units = base64_units(run)?;
            let text = char::decode_utf16(units.iter().copied())
                .collect::<Result<String, _>>()
                .ok()?;
            // A run must not encode what stands for itself.
            if text.chars().any(|c| (' '..='~').contains(&c)) {
                return None;
            }
            out.push_str(&text);
        }
        rest = &after[end + 1..];
    }
    if !rest.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
        return None;
    }
    out.push_str(rest);
    Some(out)
}

fn base64_units(run: &str) -> Option<Vec<u16>> {
    let mut bits = 0u32;
    let mut count = 0;
    let mut bytes = Vec::with_capacity(run.len() * 3 / 4);
    for b in run.bytes() {
        let value = DIGITS.iter().position(|&d| d == b)? as u32;
        bits = bits << 6 | value;
        count += 6;
        if count >= 8 {
            count -= 8;
            bytes.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    // Leftover bits are padding: fewer than a digit, all zero; the bytes must make whole
    // UTF-16 units, at least one.
    if bits != 0 || count >= 6 || bytes.is_empty() || bytes.len() % 2 != 0 {
        return None;
    }
    Some(
        bytes
            .chunks(2)
            .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_of_names() {
        let cases = [
            ("INBOX", "INBOX"),
            ("Éléments envoyés", "&AMk-l&AOk-ments envoy&AOk-s"),
            ("R&D", "R&-D"),
            ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
            ("Santé & soins", "Sant&AOk- &- soins"),
            ("🩺", "&2D7eeg-"),
        ];
        for (utf8, mutf7) in cases {
            assert_eq!(encode(utf8), mutf7, "encode {utf8}");
            assert_eq!(decode(mutf7).as_deref(), Some(utf8), "decode {mutf7}");
        }
        for invalid in [
            "&AMk",
            "&A-",
            "&AGE-",
            "caf\u{e9}",
            "&2D4-",
            "&*-",
            "&AOk-&AOk-",
        ] {
            assert_eq!(decode(invalid), None, "{invalid}");
        }
    }
}
