//! Human durations in the configuration ("90s", "30m", "1h", "5d").

use std::time::Duration;

/// Parses `<digits><unit>` with unit s, m, h or d. A bare number is refused: the unit is
/// what tells a reader whether `refresh = 60` meant seconds or minutes.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(|| {
        format!("\"{text}\" has no unit: write e.g. \"90s\", \"30m\", \"1h\" or \"5d\"")
    })?;
    let (digits, unit) = text.split_at(split);
    if digits.is_empty() {
        return Err(format!("\"{text}\" must start with a number, e.g. \"1h\""));
    }
    let value: u64 = digits
        .parse()
        .map_err(|_| format!("\"{digits}\" is too large a number"))?;
    let seconds_per_unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        other => {
            return Err(format!(
                "unknown unit \"{other}\" in \"{text}\": use s, m, h or d"
            ));
        }
    };
    value
        .checked_mul(seconds_per_unit)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("\"{text}\" is too long a duration"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let cases: &[(&str, Result<u64, &str>)] = &[
            ("90s", Ok(90)),
            ("30m", Ok(1800)),
            ("1h", Ok(3600)),
            (" 5d ", Ok(432_000)),
            ("0s", Ok(0)),
            ("60", Err("has no unit")),
            ("h", Err("must start with a number")),
            ("1w", Err("unknown unit")),
            ("1 h", Err("unknown unit")),
            ("99999999999999999999s", Err("too large")),
            ("999999999999999999d", Err("too long")),
        ];
        for (input, expected) in cases {
            let got = parse_duration(input);
            match (expected, got) {
                (Ok(secs), Ok(d)) => assert_eq!(d.as_secs(), *secs, "{input}"),
                (Err(needle), Err(message)) => {
                    assert!(message.contains(needle), "{input}: {message}")
                }
                (expected, got) => panic!("{input}: expected {expected:?}, got {got:?}"),
            }
        }
    }
}
