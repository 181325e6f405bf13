//! What a message's health documents say, as plain data. Patient data (INS, names, birth)
//! is health data: `Debug` redacts it, so a stray `{:?}` in a log leaks nothing.

use std::fmt;

use mssd_core::InsOid;

/// An HL7 instance identifier (`II`): an OID or UUID root and an optional extension.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstanceId {
    pub root: String,
    pub extension: Option<String>,
}

impl InstanceId {
    pub fn new(root: impl Into<String>, extension: Option<&str>) -> Self {
        InstanceId {
            root: root.into(),
            extension: extension.map(str::to_string),
        }
    }

    /// Parses the `root^extension` form of [`fmt::Display`].
    pub fn parse(text: &str) -> Option<Self> {
        let (root, extension) = match text.split_once('^') {
            Some((root, ext)) => (root, Some(ext).filter(|e| !e.is_empty())),
            None => (text, None),
        };
        (!root.is_empty()).then(|| InstanceId::new(root, extension))
    }
}

/// `root^extension`, or `root` alone.
impl fmt::Display for InstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.extension {
            Some(ext) => write!(f, "{}^{}", self.root, ext),
            None => f.write_str(&self.root),
        }
    }
}

impl fmt::Debug for InstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

/// A coded value (`CE`): code, code system and display name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Code {
    pub code: String,
    pub system: Option<String>,
    pub display: Option<String>,
}

/// One patient identifier of `recordTarget/patientRole`.
#[derive(Clone, PartialEq, Eq)]
pub struct PatientId {
    pub root: String,
    pub extension: String,
    /// Set when `root` is one of the four INS OIDs.
    pub ins: Option<InsOid>,
}

impl PatientId {
    pub fn new(root: &str, extension: &str) -> Self {
        PatientId {
            root: root.to_string(),
            extension: extension.to_string(),
            ins: InsOid::from_oid(root),
        }
    }

    /// `root^extension` with the extension of an INS redacted: safe for logs and listings.
    pub fn redacted(&self) -> String {
        let ext = if self.ins.is_some() {
            mssd_core::redact::redact_value(&self.extension)
        } else {
            self.extension.clone()
        };
        format!("{}^{}", self.root, ext)
    }

    /// `root^extension` in clear (for `--reveal`, which is audited).
    pub fn revealed(&self) -> String {
        format!("{}^{}", self.root, self.extension)
    }
}

impl fmt::Debug for PatientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// The identity traits that make an INS usable (ANS rule: all six, or the INS is
/// incomplete, code 905).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct InsTraits {
    /// `name/family[@qualifier='BR']`.
    pub birth_family_name: Option<String>,
    /// `name/given[@qualifier='BR']`.
    pub first_birth_given_name: Option<String>,
    /// `name/given` without qualifier (all birth given names).
    pub given_names: Option<String>,
    /// `birthTime/@value`.
    pub birth_time: Option<String>,
    /// `birthplace/place/addr/county` (INSEE code).
    pub birthplace_county: Option<String>,
    /// `administrativeGenderCode/@code`.
    pub sex: Option<String>,
}

impl InsTraits {
    /// Names of the traits that are absent, in the order the ANS lists them.
    pub fn missing(&self) -> Vec<&'static str> {
        [
            ("birth family name", &self.birth_family_name),
            ("first birth given name", &self.first_birth_given_name),
            ("given names", &self.given_names),
            ("birth time", &self.birth_time),
            ("birthplace county", &self.birthplace_county),
            ("sex", &self.sex),
        ]
        .into_iter()
        .filter(|(_, v)| v.is_none())
        .map(|(name, _)| name)
        .collect()
    }

    pub fn complete(&self) -> bool {
        self.missing().is_empty()
    }
}

impl fmt::Debug for InsTraits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InsTraits")
            .field("missing", &self.missing())
            .finish_non_exhaustive()
    }
}

/// One `author/assignedAuthor`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Author {
    /// The author's id, e.g. idNat_PS `1.2.250.1.71.4.2.1^8<RPPS>`.
    pub id: Option<InstanceId>,
    /// `representedOrganization/id`, the author's structure.
    pub organization: Option<InstanceId>,
}

/// One section of a structured (N3) body, kept for display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub title: Option<String>,
    /// The narrative `text` with white space collapsed.
    pub text: String,
}

/// The body of a CDA document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// Level 1: an embedded document (`nonXMLBody`), here its decoded size.
    Unstructured { media_type: String, size: usize },
    /// Level 3: sections (`structuredBody`).
    Structured { sections: Vec<Section> },
}

/// The header of a CDA R2 document (and its body summary).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CdaHeader {
    pub id: InstanceId,
    pub set_id: Option<InstanceId>,
    pub version: Option<u32>,
    pub code: Code,
    pub title: Option<String>,
    pub effective_time: Option<String>,
    pub confidentiality: Option<String>,
    pub template_ids: Vec<InstanceId>,
    pub patient_ids: Vec<PatientId>,
    pub traits: InsTraits,
    pub authors: Vec<Author>,
    /// `relatedDocument[@typeCode='RPLC']/parentDocument/id`: the document this one replaces.
    pub replaces: Option<InstanceId>,
    pub body: Body,
}

impl CdaHeader {
    /// The INS identifiers of the patient.
    pub fn ins_ids(&self) -> impl Iterator<Item = &PatientId> {
        self.patient_ids.iter().filter(|p| p.ins.is_some())
    }

    /// ANS rule: an INS whose root is one of `accepted` and all six traits present.
    pub fn has_qualified_ins(&self, accepted: &[String]) -> bool {
        self.traits.complete() && self.ins_ids().any(|p| accepted.contains(&p.root))
    }
}

/// The MSSanté extra metadata `action` of a document entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `C`: replaces the document named by `relatedDocument/parentDocument/id`.
    Replace,
    /// `D`: withdraws the document named by `ClinicalDocument/id`.
    Delete,
}

/// One document entry of METADATA.XML (an ebRIM `ExtrinsicObject`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DocumentEntry {
    pub entry_id: String,
    pub mime_type: Option<String>,
    pub uri: String,
    pub size: Option<u64>,
    /// Lowercase hex SHA-1.
    pub hash: Option<String>,
    pub unique_id: Option<String>,
    pub patient_id: Option<PatientId>,
    pub title: Option<String>,
    pub class_code: Option<Code>,
    pub type_code: Option<Code>,
    pub format_code: Option<Code>,
    /// Every confidentiality code (HL7 N/R/V and the ANS MetaDMP/MSS codes).
    pub confidentiality_codes: Vec<Code>,
    pub action: Option<Action>,
}

/// The submission set of METADATA.XML (an ebRIM `RegistryPackage`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SubmissionSet {
    pub unique_id: Option<String>,
    pub source_id: Option<String>,
    pub submission_time: Option<String>,
    pub patient_id: Option<PatientId>,
    /// Mail addresses of `intendedRecipient` (their XTN component).
    pub intended_recipients: Vec<String>,
}
