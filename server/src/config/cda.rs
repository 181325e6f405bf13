//! Resolution of `[cda]` into the policy the SMTP sessions apply.

use mssd_cda::routing::{Route, RouteAction};
use mssd_cda::{CdaPolicy, HeaderMismatch, Malformed, XdmLimits};
use mssd_core::Address;

use super::raw::{OneOrMany, RawCda};
use crate::error::{Error, Result};

pub(super) fn resolve_cda(raw: RawCda, bad: &dyn Fn(&str, String) -> Error) -> Result<CdaPolicy> {
    let defaults = CdaPolicy::default();
    let accepted_ins_oids = raw.accepted_ins_oids.unwrap_or(defaults.accepted_ins_oids);
    for (i, oid) in accepted_ins_oids.iter().enumerate() {
        if !mssd_cda::is_oid(oid) {
            return Err(bad(
                &format!("cda.accepted_ins_oids[{i}]"),
                format!("{oid:?} is not a dotted OID"),
            ));
        }
        if mssd_core::InsOid::from_oid(oid).is_none() {
            return Err(bad(
                &format!("cda.accepted_ins_oids[{i}]"),
                format!("{oid} is not an INS OID (1.2.250.1.213.1.4.8, .9, .10 or .11)"),
            ));
        }
    }
    let header_mismatch = match raw.header_mismatch.as_deref() {
        None | Some("warn") => HeaderMismatch::Warn,
        Some("refuse") => HeaderMismatch::Refuse,
        Some(other) => {
            return Err(bad(
                "cda.header_mismatch",
                format!("\"{other}\": use \"warn\" or \"refuse\""),
            ));
        }
    };
    let malformed = match raw.malformed.as_deref() {
        None | Some("accept") => Malformed::Accept,
        Some("refuse") => Malformed::Refuse,
        Some(other) => {
            return Err(bad(
                "cda.malformed",
                format!("\"{other}\": use \"accept\" or \"refuse\""),
            ));
        }
    };
    let d = XdmLimits::default();
    let size = |key: &str, text: &Option<String>, default: u64| -> Result<u64> {
        match text {
            None => Ok(default),
            Some(t) => super::parse_size(t).map_err(|m| bad(key, m)),
        }
    };
    let l = raw.limits;
    let limits = XdmLimits {
        max_entries: l.max_entries.unwrap_or(d.max_entries),
        max_entry_size: size(
            "cda.limits.max_entry_size",
            &l.max_entry_size,
            d.max_entry_size,
        )?,
        max_total_size: size(
            "cda.limits.max_total_size",
            &l.max_total_size,
            d.max_total_size,
        )?,
        max_ratio: l.max_ratio.unwrap_or(d.max_ratio),
        max_xml_nodes: l.max_xml_nodes.unwrap_or(d.max_xml_nodes),
    };
    if limits.max_entries == 0
        || limits.max_entry_size == 0
        || limits.max_ratio == 0
        || limits.max_xml_nodes == 0
    {
        return Err(bad("cda.limits", "every limit must be at least 1".into()));
    }
    if limits.max_entry_size > limits.max_total_size {
        return Err(bad(
            "cda.limits.max_entry_size",
            "must not exceed cda.limits.max_total_size".into(),
        ));
    }
    let routes = raw
        .routes
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let key = |field: &str| format!("cda.routes[{i}].{field}");
            let mailboxes = match r.mailboxes {
                OneOrMany::One(p) => vec![p],
                OneOrMany::Many(list) => list,
            };
            if mailboxes.is_empty() || mailboxes.iter().any(|p| p.trim().is_empty()) {
                return Err(bad(
                    &key("mailboxes"),
                    "give an address or a pattern like \"*@domain\"".into(),
                ));
            }
            let action = match r.action.as_deref() {
                None | Some("copy") => RouteAction::Copy,
                Some("redirect") => RouteAction::Redirect,
                Some(other) => {
                    return Err(bad(
                        &key("action"),
                        format!("\"{other}\": use \"copy\" or \"redirect\""),
                    ));
                }
            };
            let to = Address::parse(&r.to).map_err(|e| bad(&key("to"), e.to_string()))?;
            Ok(Route {
                mailboxes,
                codes: r.codes.unwrap_or_default(),
                action,
                to,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(CdaPolicy {
        accepted_ins_oids,
        header_mismatch,
        malformed,
        limits,
        routes,
    })
}
