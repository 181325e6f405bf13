//! The final table of `backend-bench`: each measure on SQLite and on PostgreSQL, its target
//! and the verdict (the targets of issue #15 are PostgreSQL's; SQLite's verdict is in
//! parentheses).

use crate::imap_report::Target;

/// One line: a figure on both backends.
pub struct Row {
    pub name: String,
    pub sqlite: Option<f64>,
    pub postgres: Option<f64>,
    pub unit: &'static str,
    pub target: Target,
}

impl Row {
    pub fn new(
        name: impl Into<String>,
        values: [Option<f64>; 2],
        unit: &'static str,
        target: Target,
    ) -> Row {
        Row {
            name: name.into(),
            sqlite: values[0],
            postgres: values[1],
            unit,
            target,
        }
    }

    fn passes(&self, value: Option<f64>) -> Option<bool> {
        let value = value?;
        match self.target {
            Target::AtLeast(min) => Some(value >= min),
            Target::AtMost(max) => Some(value <= max),
            Target::Below(max) => Some(value < max),
            Target::None => None,
        }
    }

    /// False only when PostgreSQL was measured and misses its target.
    pub fn postgres_passes(&self) -> bool {
        self.passes(self.postgres) != Some(false)
    }
}

fn value(v: Option<f64>, unit: &str) -> String {
    match v {
        Some(v) if v >= 100.0 => format!("{v:.0} {unit}"),
        Some(v) => format!("{v:.2} {unit}"),
        None => "-".to_string(),
    }
}

fn verdict(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "PASS",
        Some(false) => "FAIL",
        None => "-",
    }
}

/// The table as text.
pub fn table(rows: &[Row]) -> String {
    let mut out = format!(
        "{:<46} | {:>14} | {:>14} | {:>12} | verdict (SQLite)\n",
        "measure", "SQLite", "PostgreSQL", "target"
    );
    out.push_str(&"-".repeat(112));
    out.push('\n');
    for row in rows {
        let target = match row.target {
            Target::AtLeast(min) => format!(">= {min} {}", row.unit),
            Target::AtMost(max) => format!("<= {max} {}", row.unit),
            Target::Below(max) => format!("< {max} {}", row.unit),
            Target::None => String::new(),
        };
        let judged = !matches!(row.target, Target::None);
        let verdicts = if judged {
            format!(
                "{} ({})",
                verdict(row.passes(row.postgres)),
                verdict(row.passes(row.sqlite))
            )
        } else {
            String::new()
        };
        out.push_str(&format!(
            "{:<46} | {:>14} | {:>14} | {:>12} | {verdicts}\n",
            row.name,
            value(row.sqlite, row.unit),
            value(row.postgres, row.unit),
            target
        ));
    }
    out
}
