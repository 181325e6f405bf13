//! The header of an HL7 CDA R2 document (`ClinicalDocument`, namespace `urn:hl7-org:v3`)
//! and a summary of its body: what routing, indexing and display need, nothing more.

use roxmltree::Node;

use crate::body_scan;
use crate::error::{CdaError, Result};
use crate::model::{Author, CdaHeader, Code, InsTraits, InstanceId, PatientId};
use crate::xml::{self, attr, child, children, path};

const HL7: &str = "urn:hl7-org:v3";

/// Parses the CDA document `bytes`, named `file` in errors.
pub fn parse(file: &str, bytes: &[u8], max_nodes: u32) -> Result<CdaHeader> {
    let text = xml::text(file, bytes)?;
    // One streaming pass over the whole document; the tree is built for the header only.
    let scanned = body_scan::scan(file, text)?;
    let header = match scanned.header_end {
        Some(end) => std::borrow::Cow::Owned(format!("{}</{}>", &text[..end], scanned.root_name)),
        None => std::borrow::Cow::Borrowed(text),
    };
    let doc = xml::parse(file, &header, max_nodes)?;
    let root = doc.root_element();
    let not_cda = |reason: String| CdaError::NotCda {
        file: file.to_string(),
        reason,
    };
    if root.tag_name().name() != "ClinicalDocument" || root.tag_name().namespace() != Some(HL7) {
        return Err(not_cda(format!(
            "the root element is {:?}, not ClinicalDocument in {HL7}",
            root.tag_name().name()
        )));
    }
    let id = child(root, HL7, "id")
        .and_then(instance_id)
        .ok_or_else(|| not_cda("ClinicalDocument/id is missing".into()))?;
    let code = child(root, HL7, "code")
        .and_then(code)
        .ok_or_else(|| not_cda("ClinicalDocument/code is missing".into()))?;
    let version = match child(root, HL7, "versionNumber").and_then(|n| attr(n, "value")) {
        None => None,
        Some(v) => Some(
            v.parse::<u32>()
                .map_err(|_| not_cda(format!("versionNumber {v:?} is not a positive integer")))?,
        ),
    };
    let related: Vec<Node> = children(root, HL7, "relatedDocument").collect();
    if related.len() > 1 {
        return Err(not_cda("more than one relatedDocument".into()));
    }
    let replaces = match related.first() {
        None => None,
        Some(rel) if rel.attribute("typeCode") == Some("RPLC") => Some(
            path(*rel, HL7, &["parentDocument", "id"])
                .and_then(instance_id)
                .ok_or_else(|| not_cda("relatedDocument RPLC without parentDocument/id".into()))?,
        ),
        Some(rel) => {
            return Err(not_cda(format!(
                "relatedDocument of type {:?}; only RPLC is allowed",
                rel.attribute("typeCode").unwrap_or("")
            )));
        }
    };
    let patient_role = path(root, HL7, &["recordTarget", "patientRole"]);
    Ok(CdaHeader {
        id,
        set_id: child(root, HL7, "setId").and_then(instance_id),
        version,
        code,
        title: child(root, HL7, "title")
            .map(xml::collapsed_text)
            .filter(|t| !t.is_empty()),
        effective_time: child(root, HL7, "effectiveTime")
            .and_then(|n| attr(n, "value"))
            .map(str::to_string),
        confidentiality: child(root, HL7, "confidentialityCode")
            .and_then(|n| attr(n, "code"))
            .map(str::to_string),
        template_ids: children(root, HL7, "templateId")
            .filter_map(instance_id)
            .collect(),
        patient_ids: patient_role
            .map(|role| {
                children(role, HL7, "id")
                    .filter_map(|n| Some(PatientId::new(attr(n, "root")?, attr(n, "extension")?)))
                    .collect()
            })
            .unwrap_or_default(),
        traits: patient_role
            .and_then(|role| child(role, HL7, "patient"))
            .map(traits)
            .unwrap_or_default(),
        authors: children(root, HL7, "author")
            .filter_map(|a| child(a, HL7, "assignedAuthor"))
            .map(|a| Author {
                id: child(a, HL7, "id").and_then(instance_id),
                organization: path(a, HL7, &["representedOrganization", "id"])
                    .and_then(instance_id),
            })
            .collect(),
        replaces,
        body: scanned.body.ok_or_else(|| CdaError::Body {
            file: file.to_string(),
            reason: "neither structuredBody nor nonXMLBody/text".into(),
        })?,
    })
}

fn instance_id(node: Node) -> Option<InstanceId> {
    Some(InstanceId::new(
        attr(node, "root")?,
        attr(node, "extension"),
    ))
}

fn code(node: Node) -> Option<Code> {
    Some(Code {
        code: attr(node, "code")?.to_string(),
        system: attr(node, "codeSystem").map(str::to_string),
        display: attr(node, "displayName").map(str::to_string),
    })
}

fn traits(patient: Node) -> InsTraits {
    let name = child(patient, HL7, "name");
    let named = |element: &str, qualifier: Option<&str>| {
        name.and_then(|n| {
            children(n, HL7, element)
                .find(|e| e.attribute("qualifier") == qualifier)
                .map(xml::collapsed_text)
                .filter(|t| !t.is_empty())
        })
    };
    InsTraits {
        birth_family_name: named("family", Some("BR")),
        first_birth_given_name: named("given", Some("BR")),
        given_names: named("given", None),
        birth_time: child(patient, HL7, "birthTime")
            .and_then(|n| attr(n, "value"))
            .map(str::to_string),
        birthplace_county: path(patient, HL7, &["birthplace", "place", "addr", "county"])
            .map(xml::collapsed_text)
            .filter(|t| !t.is_empty()),
        sex: child(patient, HL7, "administrativeGenderCode")
            .and_then(|n| attr(n, "code"))
            .map(str::to_string),
    }
}
