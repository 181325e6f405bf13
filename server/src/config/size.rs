//! Sizes in the configuration and on the command line ("500K", "50M", "2G", or bytes).

pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (digits, multiplier) = match text.char_indices().last() {
        Some((i, 'K' | 'k')) => (&text[..i], 1u64 << 10),
        Some((i, 'M' | 'm')) => (&text[..i], 1 << 20),
        Some((i, 'G' | 'g')) => (&text[..i], 1 << 30),
        _ => (text, 1),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(multiplier))
        .ok_or_else(|| format!("\"{text}\": write bytes or a number with K, M or G"))
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn table() {
        let cases: &[(&str, Option<u64>)] = &[
            ("1048576", Some(1 << 20)),
            ("500M", Some(500 << 20)),
            ("2g", Some(2 << 30)),
            ("64K", Some(64 << 10)),
            ("2T", None),
            ("", None),
            ("M", None),
            ("99999999999G", None),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_size(input).ok(), *expected, "{input}");
        }
    }
}
