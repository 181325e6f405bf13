//! `IHE_XDM/SUBSETnn/METADATA.XML`: an ebRIM `SubmitObjectsRequest` (IHE ITI TF-3 §4.2,
//! XDM in ITI TF-2b §3.32). Elements are matched by local name so that ebRIM 3.0 and the
//! older 2.1 namespaces both read; what is absent is tolerated, what is wrong is refused.

use roxmltree::Node;

use crate::error::{CdaError, Result};
use crate::model::{Action, Code, DocumentEntry, PatientId, SubmissionSet};
use crate::xml;

const DOC_CLASS_CODE: &str = "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a";
const DOC_CONFIDENTIALITY: &str = "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f";
const DOC_FORMAT_CODE: &str = "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d";
const DOC_TYPE_CODE: &str = "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983";
const DOC_PATIENT_ID: &str = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427";
const DOC_UNIQUE_ID: &str = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab";
const SET_NODE: &str = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd";
const SET_UNIQUE_ID: &str = "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8";
const SET_SOURCE_ID: &str = "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832";
const SET_PATIENT_ID: &str = "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446";

/// What METADATA.XML says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    pub submission: SubmissionSet,
    pub entries: Vec<DocumentEntry>,
}

/// Parses METADATA.XML.
pub fn parse(bytes: &[u8], max_nodes: u32) -> Result<Metadata> {
    const FILE: &str = "METADATA.XML";
    let text = xml::text(FILE, bytes)?;
    let doc = xml::parse(FILE, text, max_nodes)?;
    let root = doc.root_element();
    if root.tag_name().name() != "SubmitObjectsRequest" {
        return Err(CdaError::Metadata(format!(
            "the root element is {:?}, not SubmitObjectsRequest",
            root.tag_name().name()
        )));
    }
    let objects: Vec<Node> = root
        .descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == "ExtrinsicObject")
        .collect();
    if objects.is_empty() {
        return Err(CdaError::Metadata(
            "no document entry (ExtrinsicObject)".into(),
        ));
    }
    let mut entries = Vec::with_capacity(objects.len());
    for object in objects {
        let entry = document_entry(object)?;
        if entries
            .iter()
            .any(|e: &DocumentEntry| e.uri.eq_ignore_ascii_case(&entry.uri))
        {
            return Err(CdaError::Metadata(format!(
                "two document entries name {:?}",
                entry.uri
            )));
        }
        entries.push(entry);
    }
    Ok(Metadata {
        submission: submission_set(root)?,
        entries,
    })
}

fn document_entry(object: Node) -> Result<DocumentEntry> {
    let entry_id = object.attribute("id").unwrap_or_default().to_string();
    let uri = uri(object).ok_or_else(|| {
        CdaError::Metadata(format!("document entry {entry_id:?} has no URI slot"))
    })?;
    let size = match slot_value(object, "size") {
        None => None,
        Some(v) => Some(v.parse::<u64>().map_err(|_| {
            CdaError::Metadata(format!("{uri}: size {v:?} is not a number of bytes"))
        })?),
    };
    let hash = match slot_value(object, "hash") {
        None => None,
        Some(v) if v.len() == 40 && v.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Some(v.to_ascii_lowercase())
        }
        Some(v) => {
            return Err(CdaError::Metadata(format!(
                "{uri}: hash {v:?} is not a hexadecimal SHA-1"
            )));
        }
    };
    let action = match slot_value(object, "action") {
        None => None,
        Some(v) if v.eq_ignore_ascii_case("C") => Some(Action::Replace),
        Some(v) if v.eq_ignore_ascii_case("D") => Some(Action::Delete),
        Some(v) => {
            return Err(CdaError::Metadata(format!(
                "{uri}: action {v:?} is neither C (replace) nor D (delete)"
            )));
        }
    };
    Ok(DocumentEntry {
        mime_type: xml::attr(object, "mimeType").map(str::to_string),
        size,
        hash,
        unique_id: external_id(object, DOC_UNIQUE_ID),
        patient_id: external_id(object, DOC_PATIENT_ID)
            .or_else(|| slot_value(object, "sourcePatientId"))
            .and_then(|v| patient_id(&v)),
        title: localized(object, "Name"),
        class_code: classification(object, DOC_CLASS_CODE).next(),
        type_code: classification(object, DOC_TYPE_CODE).next(),
        format_code: classification(object, DOC_FORMAT_CODE).next(),
        confidentiality_codes: classification(object, DOC_CONFIDENTIALITY).collect(),
        action,
        entry_id,
        uri,
    })
}

/// The submission set: the `RegistryPackage` classified as one, or the only one there is.
fn submission_set(root: Node) -> Result<SubmissionSet> {
    let packages: Vec<Node> = root
        .descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == "RegistryPackage")
        .collect();
    let classified: Vec<&str> = root
        .descendants()
        .filter(|n| {
            n.is_element()
                && n.tag_name().name() == "Classification"
                && n.attribute("classificationNode") == Some(SET_NODE)
        })
        .filter_map(|n| {
            n.attribute("classifiedObject")
                .or_else(|| n.parent()?.attribute("id"))
        })
        .collect();
    let set = match packages.as_slice() {
        [] => return Ok(SubmissionSet::default()),
        [only] => *only,
        several => *several
            .iter()
            .find(|p| p.attribute("id").is_some_and(|id| classified.contains(&id)))
            .ok_or_else(|| {
                CdaError::Metadata("several RegistryPackage and none is the submission set".into())
            })?,
    };
    let intended_recipients = slot_values(set, "intendedRecipient")
        .iter()
        .filter_map(|v| recipient_address(v))
        .collect();
    Ok(SubmissionSet {
        unique_id: external_id(set, SET_UNIQUE_ID),
        source_id: external_id(set, SET_SOURCE_ID),
        submission_time: slot_value(set, "submissionTime"),
        patient_id: external_id(set, SET_PATIENT_ID).and_then(|v| patient_id(&v)),
        intended_recipients,
    })
}

/// Values of the `Slot` children of `object` whose name is `name`, compared without case and
/// after the last `:` or `$` (extra metadata slots may carry a URN prefix).
fn slot_values(object: Node, name: &str) -> Vec<String> {
    object
        .children()
        .filter(|n| n.is_element() && n.tag_name().name() == "Slot")
        .filter(|n| {
            n.attribute("name").is_some_and(|full| {
                let last = full.rsplit([':', '$']).next().unwrap_or(full);
                last.eq_ignore_ascii_case(name)
            })
        })
        .flat_map(|slot| {
            slot.descendants()
                .filter(|n| n.is_element() && n.tag_name().name() == "Value")
                .filter_map(|v| v.text().map(|t| t.trim().to_string()))
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn slot_value(object: Node, name: &str) -> Option<String> {
    slot_values(object, name).into_iter().next()
}

/// The URI slot; a long URI may be split over values `1|…`, `2|…` (ITI TF-3 §4.2.3.2.24).
fn uri(object: Node) -> Option<String> {
    let values = slot_values(object, "URI");
    let split = values.len() > 1
        && values.iter().all(|v| {
            v.split_once('|')
                .is_some_and(|(n, _)| n.parse::<u32>().is_ok())
        });
    if !split {
        return values.into_iter().next();
    }
    let mut parts: Vec<(u32, &str)> = values
        .iter()
        .filter_map(|v| v.split_once('|'))
        .map(|(n, rest)| (n.parse().unwrap_or(0), rest))
        .collect();
    parts.sort_by_key(|(n, _)| *n);
    Some(parts.into_iter().map(|(_, p)| p).collect())
}

fn external_id(object: Node, scheme: &str) -> Option<String> {
    object
        .children()
        .find(|n| {
            n.is_element()
                && n.tag_name().name() == "ExternalIdentifier"
                && n.attribute("identificationScheme") == Some(scheme)
        })
        .and_then(|n| xml::attr(n, "value").map(str::to_string))
}

fn localized(object: Node, element: &str) -> Option<String> {
    object
        .children()
        .find(|n| n.is_element() && n.tag_name().name() == element)?
        .descendants()
        .find(|n| n.is_element() && n.tag_name().name() == "LocalizedString")
        .and_then(|n| xml::attr(n, "value").map(str::to_string))
}

fn classification<'a>(object: Node<'a, 'a>, scheme: &'a str) -> impl Iterator<Item = Code> + 'a {
    object
        .children()
        .filter(move |n| {
            n.is_element()
                && n.tag_name().name() == "Classification"
                && n.attribute("classificationScheme") == Some(scheme)
        })
        .filter_map(|n| {
            Some(Code {
                code: xml::attr(n, "nodeRepresentation")?.to_string(),
                system: slot_value(n, "codingScheme"),
                display: localized(n, "Name"),
            })
        })
}

/// A CX value `id^^^&oid&ISO[^type]` as a patient id.
pub(crate) fn patient_id(cx: &str) -> Option<PatientId> {
    let mut components = cx.split('^');
    let id = components.next()?.trim();
    let authority = components.nth(2)?;
    let oid = authority.split('&').nth(1)?.trim();
    (!id.is_empty() && !oid.is_empty()).then(|| PatientId::new(oid, id))
}

/// The mail address of an `intendedRecipient` value `XON|XCN|XTN`: the XTN's fourth
/// component, or any component that looks like an address.
fn recipient_address(value: &str) -> Option<String> {
    let telecom = value.rsplit('|').next().unwrap_or(value);
    let components: Vec<&str> = telecom.split('^').collect();
    components
        .get(3)
        .filter(|c| c.contains('@'))
        .or_else(|| components.iter().find(|c| c.contains('@')))
        .map(|c| c.trim().to_string())
}
