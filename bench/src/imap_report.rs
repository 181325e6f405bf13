//! The final table of the IMAP benchmark: each figure next to its target.

use std::fmt;
use std::time::Duration;

use crate::stats::LatencySummary;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    AtLeast(f64),
    AtMost(f64),
    /// Strictly less than.
    Below(f64),
    /// Reported only.
    None,
}

/// One measured figure; `value` is `None` when the step could not run.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub name: String,
    pub value: Option<f64>,
    pub unit: &'static str,
    pub target: Target,
}

impl Figure {
    pub fn new(
        name: impl Into<String>,
        value: Option<f64>,
        unit: &'static str,
        target: Target,
    ) -> Figure {
        Figure {
            name: name.into(),
            value,
            unit,
            target,
        }
    }

    /// Some(true/false) against the target; None when there is no value or no target.
    pub fn passes(&self) -> Option<bool> {
        let value = self.value?;
        match self.target {
            Target::AtLeast(min) => Some(value >= min),
            Target::AtMost(max) => Some(value <= max),
            Target::Below(max) => Some(value < max),
            Target::None => None,
        }
    }
}

impl fmt::Display for Figure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = match self.value {
            Some(v) if v >= 100.0 => format!("{v:.0} {}", self.unit),
            Some(v) => format!("{v:.1} {}", self.unit),
            None => "not measured".to_string(),
        };
        let target = match self.target {
            Target::AtLeast(min) => format!(">= {min} {}", self.unit),
            Target::AtMost(max) => format!("<= {max} {}", self.unit),
            Target::Below(max) => format!("< {max} {}", self.unit),
            Target::None => String::new(),
        };
        let verdict = match self.passes() {
            Some(true) => "PASS",
            Some(false) => "FAIL",
            None => "",
        };
        write!(
            f,
            "{:<44} {:>16} {:>18}  {verdict}",
            self.name, value, target
        )
    }
}

/// The table, one figure a line, with a header.
pub fn table(figures: &[Figure]) -> String {
    let mut out = format!(
        "{:<44} {:>16} {:>18}  verdict\n",
        "figure", "measured", "target"
    );
    for figure in figures {
        out.push_str(&figure.to_string());
        out.push('\n');
    }
    out
}

pub fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// "p50 1.2 ms  p99 8.0 ms  max 12.3 ms  (n=340)".
pub fn latency_line(summary: &LatencySummary) -> String {
    format!(
        "p50 {:>8.2} ms  p99 {:>8.2} ms  max {:>8.2} ms  (n={})",
        millis(summary.p50),
        millis(summary.p99),
        millis(summary.max),
        summary.count
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_table() {
        let cases = [
            (Some(250.0), Target::AtLeast(240.0), Some(true)),
            (Some(240.0), Target::AtLeast(240.0), Some(true)),
            (Some(239.9), Target::AtLeast(240.0), Some(false)),
            (Some(149.0), Target::AtMost(150.0), Some(true)),
            (Some(151.0), Target::AtMost(150.0), Some(false)),
            (Some(49.9), Target::Below(50.0), Some(true)),
            (Some(50.0), Target::Below(50.0), Some(false)),
            (None, Target::AtMost(150.0), None),
            (Some(3.0), Target::None, None),
        ];
        for (value, target, expected) in cases {
            let figure = Figure::new("x", value, "ms", target);
            assert_eq!(figure.passes(), expected, "{value:?} {target:?}");
        }
    }

    #[test]
    fn table_lines() {
        let figures = [
            Figure::new("mix A", Some(300.4), "cmd/s", Target::AtLeast(240.0)),
            Figure::new("FETCH 1:* cold", Some(12.345), "ms", Target::AtMost(150.0)),
            Figure::new("RSS", None, "MB", Target::AtMost(100.0)),
        ];
        let text = table(&figures);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(
            lines[1].contains("300 cmd/s") && lines[1].ends_with("PASS"),
            "{}",
            lines[1]
        );
        assert!(
            lines[2].contains("12.3 ms") && lines[2].contains("<= 150 ms"),
            "{}",
            lines[2]
        );
        assert!(
            lines[3].contains("not measured") && !lines[3].contains("PASS"),
            "{}",
            lines[3]
        );
        let summary = LatencySummary {
            count: 3,
            p50: Duration::from_micros(1500),
            p99: Duration::from_millis(8),
            max: Duration::from_millis(12),
        };
        assert_eq!(
            latency_line(&summary),
            "p50     1.50 ms  p99     8.00 ms  max    12.00 ms  (n=3)"
        );
    }
}
