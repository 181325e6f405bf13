//! An XDM package as a whole: the archive, its METADATA.XML, and each listed CDA document
//! checked against the size and SHA-1 the metadata declares.

use sha1::{Digest, Sha1};

use crate::archive::{self, Archive};
use crate::error::{CdaError, Result};
use crate::header;
use crate::limits::XdmLimits;
use crate::metadata::{self, Metadata};
use crate::model::{CdaHeader, DocumentEntry, SubmissionSet};
use crate::restrictions::Restrictions;

/// One CDA document of the package.
#[derive(Debug, Clone)]
pub struct Document {
    pub entry: DocumentEntry,
    pub cda: CdaHeader,
    pub restrictions: Restrictions,
}

/// What an `IHE_XDM.zip` carries.
#[derive(Debug, Clone)]
pub struct Package {
    pub submission: SubmissionSet,
    pub documents: Vec<Document>,
    /// Listed entries that are not CDA (`mimeType` other than `text/xml`), checked but not read.
    pub other_entries: Vec<DocumentEntry>,
}

impl Package {
    /// Every document's CDA code, in order (the `X-MSS-CODECDA` value).
    pub fn codes(&self) -> Vec<&str> {
        self.documents
            .iter()
            .map(|d| d.cda.code.code.as_str())
            .collect()
    }
}

/// Reads the archive `zip` and the documents it lists.
pub fn read(zip: &[u8], limits: &XdmLimits) -> Result<Package> {
    read_keeping(zip, limits, None).map(|(package, _)| package)
}

/// Reads the archive like [`read`] and also returns, for display, the document whose CDA
/// id (`root^extension`) is `cda_id` with its bytes; `None` when the package has no such
/// document.
pub fn read_document(
    zip: &[u8],
    limits: &XdmLimits,
    cda_id: &str,
) -> Result<Option<(Document, Vec<u8>)>> {
    let (package, kept) = read_keeping(zip, limits, Some(cda_id))?;
    Ok(kept.and_then(|(index, bytes)| {
        package
            .documents
            .into_iter()
            .nth(index)
            .map(|document| (document, bytes))
    }))
}

/// The index of a kept document in `Package::documents`, and its bytes.
type Kept = (usize, Vec<u8>);

/// One pass over the archive; with `keep`, the index and bytes of that document too.
fn read_keeping(
    zip: &[u8],
    limits: &XdmLimits,
    keep: Option<&str>,
) -> Result<(Package, Option<Kept>)> {
    let archive = archive::read(zip, limits)?;
    let (folder, metadata) = metadata_of(&archive, limits)?;
    let mut documents = Vec::with_capacity(metadata.entries.len());
    let mut other_entries = Vec::new();
    let mut kept = None;
    for entry in metadata.entries {
        let path = format!("{folder}{}", entry.uri);
        let file = archive
            .get(&path)
            .ok_or_else(|| CdaError::MissingDocument {
                uri: entry.uri.clone(),
            })?;
        check_declared(&entry, &file.bytes)?;
        let is_cda = entry
            .mime_type
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case("text/xml"));
        if !is_cda {
            other_entries.push(entry);
            continue;
        }
        let cda = header::parse(&entry.uri, &file.bytes, limits.max_xml_nodes)?;
        if kept.is_none() && keep.is_some_and(|id| cda.id.to_string() == id) {
            kept = Some((documents.len(), file.bytes.clone()));
        }
        documents.push(Document {
            restrictions: Restrictions::of(&entry),
            entry,
            cda,
        });
    }
    check_one_patient(&documents)?;
    let package = Package {
        submission: metadata.submission,
        documents,
        other_entries,
    };
    Ok((package, kept))
}

/// The folder (`IHE_XDM/SUBSETnn/`) and parsed METADATA.XML; exactly one submission set.
fn metadata_of(archive: &Archive, limits: &XdmLimits) -> Result<(String, Metadata)> {
    let mut found = archive.entries.iter().filter(|e| {
        let lower = e.name.to_ascii_lowercase();
        let mut parts = lower.split('/');
        parts.next() == Some("ihe_xdm")
            && parts.next().is_some_and(|s| s.starts_with("subset"))
            && parts.next() == Some("metadata.xml")
            && parts.next().is_none()
    });
    let entry = found.next().ok_or(CdaError::MissingMetadata)?;
    if found.next().is_some() {
        return Err(CdaError::SeveralSubmissionSets);
    }
    let folder = entry.name[..entry.name.len() - "METADATA.XML".len()].to_string();
    Ok((folder, metadata::parse(&entry.bytes, limits.max_xml_nodes)?))
}

fn check_declared(entry: &DocumentEntry, bytes: &[u8]) -> Result<()> {
    if let Some(declared) = entry.size
        && declared != bytes.len() as u64
    {
        return Err(CdaError::SizeMismatch {
            uri: entry.uri.clone(),
            declared,
            actual: bytes.len() as u64,
        });
    }
    if let Some(declared) = &entry.hash {
        let actual = hex::encode(Sha1::digest(bytes));
        if *declared != actual {
            return Err(CdaError::HashMismatch {
                uri: entry.uri.clone(),
                declared: declared.clone(),
                actual,
            });
        }
    }
    Ok(())
}

/// An archive carries the documents of one patient: two documents naming different
/// identifiers under the same root are refused.
fn check_one_patient(documents: &[Document]) -> Result<()> {
    for (i, a) in documents.iter().enumerate() {
        for b in &documents[i + 1..] {
            for pa in &a.cda.patient_ids {
                if b.cda
                    .patient_ids
                    .iter()
                    .any(|pb| pb.root == pa.root && pb.extension != pa.extension)
                {
                    return Err(CdaError::SeveralPatients);
                }
            }
        }
    }
    Ok(())
}
