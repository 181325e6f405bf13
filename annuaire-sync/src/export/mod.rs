//! Publication export: our mailboxes as the national directory takes them from operators —
//! one FHIR Patch (`Parameters`) per mailbox adding a `telecom` email with the MSSanté
//! mailbox extension to the professional (PER) or the structure (ORG, APP, CAB).
//!
//! Output shape (a JSON object):
//! ```json
//! { "resourceType": "Bundle", "type": "batch", "entry": [ {
//!     "request": { "method": "PATCH",
//!                  "url": "Practitioner?identifier=urn:oid:1.2.250.1.71.4.2.1|810001045367" },
//!     "resource": { "resourceType": "Parameters", "parameter": [ { "name": "operation", "part": [
//!         { "name": "type", "valueCode": "add" },
//!         { "name": "path", "valueString": "Practitioner" },
//!         { "name": "name", "valueString": "telecom" },
//!         { "name": "value", "valueContactPoint": { "system": "email", "value": "<address>",
//!             "extension": [ { "url": MAILBOX_EXTENSION, "extension": [
//!                 { "url": "type", "valueCoding": { "system": TYPE_BAL_SYSTEM, "code": "PER" } },
//!                 { "url": "description", "valueString": "<display name>" },
//!                 { "url": "service", "valueString": "<service>" },
//!                 { "url": "listeRouge", "valueBoolean": false } ] } ] } } ] } ] } } ] }
//! ```
//! Red-listed mailboxes are not published at all (reference §9: listeRouge must not be
//! published), suspended and citizen mailboxes neither.

use mssd_core::MailboxKind;
use mssd_store::{Mailbox, MailboxStatus, Store};
use serde_json::{Value, json};

use crate::error::Result;

/// The MSSanté mailbox extension of a `ContactPoint` in the Annuaire Santé FHIR API.
pub const MAILBOX_EXTENSION: &str =
    "https://annuaire.sante.fr/fhir/StructureDefinition/ContactPoint-MailboxMSS";
/// Code system of the mailbox types (TRE_R257-TypeBAL).
pub const TYPE_BAL_SYSTEM: &str =
    "https://mos.esante.gouv.fr/NOS/TRE_R257-TypeBAL/FHIR/TRE-R257-TypeBAL";
const ID_NAT_PS_SYSTEM: &str = "urn:oid:1.2.250.1.71.4.2.1";
const ID_NAT_STRUCT_SYSTEM: &str = "urn:oid:1.2.250.1.71.4.2.2";

/// What the export needs beyond the store.
#[derive(Clone, Debug, Default)]
pub struct ExportOptions {
    /// idNat_Struct of our structure, the target of ORG, APP and CAB mailboxes. Without it
    /// those mailboxes are skipped (counted in `skipped_no_structure`).
    pub structure_id: Option<String>,
    /// `service` of ORG mailboxes (the extension's service), by canonical address.
    pub services: Vec<(String, String)>,
}

/// Builds the publication bundle of our mailboxes. Also returns counts under `"mssd"`:
/// `published`, `skipped_red_listed`, `skipped_suspended`, `skipped_no_target`.
pub async fn export(store: &dyn Store, options: &ExportOptions) -> Result<Value> {
    let mailboxes = store.list_mailboxes().await?;
    let red_listed = store.red_listed().await?;
    Ok(build(&mailboxes, &red_listed, options))
}

/// The pure part of [`export`]: `red_listed` holds canonical addresses, sorted.
pub fn build(mailboxes: &[Mailbox], red_listed: &[String], options: &ExportOptions) -> Value {
    let mut entries = Vec::new();
    let (mut red, mut suspended, mut no_target) = (0u64, 0u64, 0u64);
    for m in mailboxes {
        if m.kind == MailboxKind::Citizen {
            continue;
        }
        let key = m.address.canonical();
        if red_listed.binary_search(&key).is_ok() {
            red += 1;
            continue;
        }
        if m.status != MailboxStatus::Active {
            suspended += 1;
            continue;
        }
        let target = match m.kind {
            MailboxKind::Per => m
                .owner_id_nat
                .as_deref()
                .map(|id| ("Practitioner", ID_NAT_PS_SYSTEM, id)),
            _ => options
                .structure_id
                .as_deref()
                .map(|id| ("Organization", ID_NAT_STRUCT_SYSTEM, id)),
        };
        let Some((resource, system, id)) = target else {
            no_target += 1;
            continue;
        };
        let service = options
            .services
            .iter()
            .find(|(address, _)| *address == key)
            .map(|(_, service)| service.as_str());
        entries.push(json!({
            "request": {
                "method": "PATCH",
                "url": format!("{resource}?identifier={system}|{id}"),
            },
            "resource": patch(m, resource, service),
        }));
    }
    json!({
        "resourceType": "Bundle",
        "type": "batch",
        "entry": entries,
        "mssd": {
            "published": entries.len(),
            "skipped_red_listed": red,
            "skipped_suspended": suspended,
            "skipped_no_target": no_target,
        },
    })
}

/// The FHIRPath Patch adding the mailbox to `resource.telecom`.
fn patch(m: &Mailbox, resource: &str, service: Option<&str>) -> Value {
    let mut extension = vec![json!({
        "url": "type",
        "valueCoding": { "system": TYPE_BAL_SYSTEM, "code": m.kind.as_str() },
    })];
    if let Some(description) = &m.display_name {
        extension.push(json!({ "url": "description", "valueString": description }));
    }
    if let Some(service) = service {
        extension.push(json!({ "url": "service", "valueString": service }));
    }
    // Only published mailboxes get here: red-listed ones are left out entirely.
    extension.push(json!({ "url": "listeRouge", "valueBoolean": false }));
    json!({
        "resourceType": "Parameters",
        "parameter": [{
            "name": "operation",
            "part": [
                { "name": "type", "valueCode": "add" },
                { "name": "path", "valueString": resource },
                { "name": "name", "valueString": "telecom" },
                { "name": "value", "valueContactPoint": {
                    "system": "email",
                    "value": m.address.as_str(),
                    "extension": [{ "url": MAILBOX_EXTENSION, "extension": extension }],
                } },
            ],
        }],
    })
}
