//! The Luhn (mod 10) check used by RPPS, FINESS, SIREN and SIRET.

/// True when `digits` is a non-empty string of ASCII digits whose last digit is the Luhn
/// check digit of the others.
pub fn luhn_valid(digits: &str) -> bool {
    luhn_sum(digits).is_some_and(|sum| sum % 10 == 0)
}

/// The Luhn check digit to append to `payload`, or `None` if `payload` is empty or not
/// all ASCII digits. Used to say in error messages which digit was expected.
pub(crate) fn luhn_check_digit(payload: &str) -> Option<u8> {
    if payload.is_empty() {
        return None;
    }
    // Appending a 0 puts the payload digits in their final positions.
    let sum = luhn_sum(&format!("{payload}0"))?;
    Some(((10 - sum % 10) % 10) as u8)
}

/// Luhn sum: from the right, every second digit is doubled (minus 9 when over 9).
fn luhn_sum(digits: &str) -> Option<u32> {
    if digits.is_empty() {
        return None;
    }
    digits
        .bytes()
        .rev()
        .enumerate()
        .try_fold(0u32, |sum, (position, byte)| {
            let digit = u32::from(byte.checked_sub(b'0').filter(|d| *d <= 9)?);
            let weighted = if position % 2 == 1 {
                let doubled = digit * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                digit
            };
            Some(sum + weighted)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_valid_table() {
        let cases = [
            ("0", true),
            ("18", true),
            ("79927398713", true), // the classic example
            ("79927398710", false),
            ("10001045367", true), // a real RPPS
            ("10001045368", false),
            ("732829320", true), // a real SIREN
            ("73282932000074", true),
            ("73282932000075", false),
            ("", false),
            ("12a4", false),
            ("١٨", false), // non-ASCII digits
            (" 18", false),
        ];
        for (input, expected) in cases {
            assert_eq!(luhn_valid(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn check_digit_completes_a_valid_number() {
        let cases = [
            ("7992739871", Some(3)),
            ("1000104536", Some(7)),
            ("73282932", Some(0)),
            ("", None),
            ("12x", None),
        ];
        for (payload, expected) in cases {
            assert_eq!(luhn_check_digit(payload), expected, "payload {payload:?}");
            if let Some(digit) = expected {
                assert!(luhn_valid(&format!("{payload}{digit}")));
            }
        }
    }
}
