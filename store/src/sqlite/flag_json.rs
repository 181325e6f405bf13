//! The stored form of a flag list: a JSON array of normalised flags.

use crate::error::{Error, Result};

pub(crate) fn flags_json(flags: &[String]) -> String {
    serde_json::Value::from(flags.to_vec()).to_string()
}

pub(crate) fn parse_flags(json: &str) -> Result<Vec<String>> {
    serde_json::from_str(json).map_err(|e| {
        Error::corrupt(
            "messages",
            format!("flags are not a JSON string array: {e}"),
        )
    })
}
