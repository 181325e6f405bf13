//! The envelope extras of a queued message, as the SMTP session writes them (RFC 3461 DSN
//! parameters), and the xtext encoding used to pass ENVID and ORCPT on.

use std::collections::BTreeMap;

use mssd_core::Address;
use smtp_proto::{RCPT_NOTIFY_FAILURE, RCPT_NOTIFY_NEVER, RCPT_NOTIFY_SUCCESS};

/// `{id, env_id, ret_full, smtputf8, notify: {addr: bits}, orcpt: {addr: orcpt}}`; every
/// member is optional so that an entry written by an older version still reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueuedEnvelope {
    /// Our identifier of the message (Received field, audit trail).
    pub id: Option<String>,
    /// RFC 3461 ENVID, decoded.
    pub env_id: Option<String>,
    /// RET=FULL: a DSN returns the whole message, else its headers.
    pub ret_full: bool,
    pub smtputf8: bool,
    /// RFC 3461 NOTIFY bits per recipient, as smtp-proto encodes them; absent = none given.
    pub notify: BTreeMap<String, u64>,
    /// RFC 3461 ORCPT per recipient, decoded (`rfc822` addresses).
    pub orcpt: BTreeMap<String, String>,
}

impl QueuedEnvelope {
    /// Reads what it can; members of the wrong type are ignored (and logged), so a damaged
    /// envelope still lets the message be delivered, with default DSN behaviour.
    pub fn from_json(value: &serde_json::Value) -> QueuedEnvelope {
        let text = |key: &str| value.get(key).and_then(|v| v.as_str()).map(str::to_string);
        let flag = |key: &str| value.get(key).and_then(|v| v.as_bool()).unwrap_or(false);
        let mut notify = BTreeMap::new();
        if let Some(map) = value.get("notify").and_then(|v| v.as_object()) {
            for (address, bits) in map {
                match bits.as_u64() {
                    Some(bits) => {
                        notify.insert(address.clone(), bits);
                    }
                    None => {
                        tracing::warn!("queued envelope: NOTIFY bits are not a number, ignored")
                    }
                }
            }
        }
        let mut orcpt = BTreeMap::new();
        if let Some(map) = value.get("orcpt").and_then(|v| v.as_object()) {
            for (address, original) in map {
                if let Some(original) = original.as_str() {
                    orcpt.insert(address.clone(), original.to_string());
                }
            }
        }
        QueuedEnvelope {
            id: text("id"),
            env_id: text("env_id").filter(|s| !s.is_empty()),
            ret_full: flag("ret_full"),
            smtputf8: flag("smtputf8"),
            notify,
            orcpt,
        }
    }

    pub fn notify_bits(&self, recipient: &Address) -> u64 {
        self.notify.get(recipient.as_str()).copied().unwrap_or(0)
    }

    pub fn original_recipient(&self, recipient: &Address) -> Option<&str> {
        self.orcpt.get(recipient.as_str()).map(String::as_str)
    }

    /// RFC 3461 §4.1: a failure DSN unless NOTIFY=NEVER or a NOTIFY list without FAILURE;
    /// no NOTIFY at all means FAILURE (and DELAY, which mssd does not send).
    pub fn wants_failure_dsn(&self, recipient: &Address) -> bool {
        let bits = self.notify_bits(recipient);
        bits == 0 || (bits & RCPT_NOTIFY_NEVER == 0 && bits & RCPT_NOTIFY_FAILURE != 0)
    }

    /// Only an explicit NOTIFY=SUCCESS asks for a success DSN.
    pub fn wants_success_dsn(&self, recipient: &Address) -> bool {
        let bits = self.notify_bits(recipient);
        bits & RCPT_NOTIFY_NEVER == 0 && bits & RCPT_NOTIFY_SUCCESS != 0
    }
}

/// RFC 3461 §4 xtext: `+` followed by two upper-case hex digits for `+`, `=`, and any octet
/// outside `!`..`~`.
pub fn xtext(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if (b'!'..=b'~').contains(&byte) && byte != b'+' && byte != b'=' {
            out.push(byte as char);
        } else {
            out.push_str(&format!("+{byte:02X}"));
        }
    }
    out
}

/// The NOTIFY parameter value for `bits`, or None when no NOTIFY was given.
pub fn notify_parameter(bits: u64) -> Option<String> {
    if bits & RCPT_NOTIFY_NEVER != 0 {
        return Some("NEVER".into());
    }
    let names: Vec<&str> = [
        (RCPT_NOTIFY_SUCCESS, "SUCCESS"),
        (RCPT_NOTIFY_FAILURE, "FAILURE"),
        (smtp_proto::RCPT_NOTIFY_DELAY, "DELAY"),
    ]
    .iter()
    .filter(|(bit, _)| bits & bit != 0)
    .map(|(_, name)| *name)
    .collect();
    if names.is_empty() {
        None
    } else {
        Some(names.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use smtp_proto::RCPT_NOTIFY_DELAY;

    #[test]
    fn envelopes() {
        let full = json!({
            "id": "abc", "env_id": "E1", "ret_full": true, "smtputf8": false,
            "notify": {"a@b.fr": RCPT_NOTIFY_SUCCESS | RCPT_NOTIFY_FAILURE, "bad@b.fr": "x"},
            "orcpt": {"a@b.fr": "A@B.FR", "n@b.fr": 3}
        });
        let cases: Vec<(serde_json::Value, QueuedEnvelope)> = vec![
            (
                full,
                QueuedEnvelope {
                    id: Some("abc".into()),
                    env_id: Some("E1".into()),
                    ret_full: true,
                    smtputf8: false,
                    notify: [(
                        "a@b.fr".to_string(),
                        RCPT_NOTIFY_SUCCESS | RCPT_NOTIFY_FAILURE,
                    )]
                    .into(),
                    orcpt: [("a@b.fr".to_string(), "A@B.FR".to_string())].into(),
                },
            ),
            (json!({}), QueuedEnvelope::default()),
            (
                json!({"env_id": "", "ret_full": "yes"}),
                QueuedEnvelope::default(),
            ),
            (json!("not an object"), QueuedEnvelope::default()),
            (
                json!({"env_id": null, "smtputf8": true}),
                QueuedEnvelope {
                    smtputf8: true,
                    ..Default::default()
                },
            ),
        ];
        for (value, expected) in cases {
            assert_eq!(QueuedEnvelope::from_json(&value), expected, "{value}");
        }
    }

    #[test]
    fn which_dsn_is_wanted() {
        // (NOTIFY bits, failure DSN, success DSN)
        let cases: &[(Option<u64>, bool, bool)] = &[
            (None, true, false),
            (Some(RCPT_NOTIFY_NEVER), false, false),
            (Some(RCPT_NOTIFY_SUCCESS), false, true),
            (Some(RCPT_NOTIFY_FAILURE), true, false),
            (Some(RCPT_NOTIFY_SUCCESS | RCPT_NOTIFY_FAILURE), true, true),
            (Some(RCPT_NOTIFY_DELAY), false, false),
        ];
        let rcpt = Address::parse("a@b.fr").unwrap();
        for &(bits, failure, success) in cases {
            let mut envelope = QueuedEnvelope::default();
            if let Some(bits) = bits {
                envelope.notify.insert("a@b.fr".into(), bits);
            }
            assert_eq!(envelope.wants_failure_dsn(&rcpt), failure, "{bits:?}");
            assert_eq!(envelope.wants_success_dsn(&rcpt), success, "{bits:?}");
        }
    }

    #[test]
    fn xtext_and_notify() {
        let cases: &[(&str, &str)] = &[
            ("Bob@Example.COM", "Bob@Example.COM"),
            ("George Tax ME", "George+20Tax+20ME"),
            ("a+b=c", "a+2Bb+3Dc"),
            ("é", "+C3+A9"),
            ("", ""),
        ];
        for (input, encoded) in cases {
            assert_eq!(xtext(input), *encoded);
        }
        let notify: &[(u64, Option<&str>)] = &[
            (0, None),
            (RCPT_NOTIFY_NEVER, Some("NEVER")),
            (RCPT_NOTIFY_SUCCESS, Some("SUCCESS")),
            (
                RCPT_NOTIFY_FAILURE | RCPT_NOTIFY_DELAY | RCPT_NOTIFY_SUCCESS,
                Some("SUCCESS,FAILURE,DELAY"),
            ),
        ];
        for &(bits, expected) in notify {
            assert_eq!(notify_parameter(bits).as_deref(), expected, "{bits}");
        }
    }
}
