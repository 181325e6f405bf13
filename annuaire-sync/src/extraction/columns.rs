//! The two national files, told apart by their header, and their columns found by name.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Which extraction file a header announces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FileKind {
    /// `Extraction_Correspondance_MSSante_*.txt`: one line per mailbox.
    ExtractionCorrespondance,
    /// `PS_LibreAcces_Personne_activite_*.txt`: one line per professional activity.
    PersonneActivite,
}

impl FileKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            FileKind::ExtractionCorrespondance => "Extraction_Correspondance_MSSante",
            FileKind::PersonneActivite => "PS_LibreAcces_Personne_activite",
        }
    }

    pub fn set(&self) -> mssd_store::DirectorySet {
        match self {
            FileKind::ExtractionCorrespondance => mssd_store::DirectorySet::Mailboxes,
            FileKind::PersonneActivite => mssd_store::DirectorySet::Professionals,
        }
    }
}

/// A column the importer reads: its header name and whether a file without it is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Column {
    // Extraction_Correspondance_MSSante
    BalType,
    BalAddress,
    IdNatPp,
    StructureId,
    StructureName,
    Service,
    Civility,
    LastName,
    FirstName,
    Profession,
    Specialty,
    PostalCode,
    City,
    RedList,
    // PS_LibreAcces_Personne_activite (IdNatPp, LastName, FirstName shared)
    PsCivility,
    PsProfessionCode,
    PsProfession,
    PsSpecialty,
    PsPracticeMode,
    PsSiret,
    PsFiness,
    PsStructureId,
    PsStructureName,
    PsPostalCode,
    PsCity,
    PsSector,
}

/// (column, header names accepted, required).
type Spec = (Column, &'static [&'static str], bool);

const CORRESPONDANCE: &[Spec] = &[
    (Column::BalType, &["Type de BAL"], true),
    (Column::BalAddress, &["Adresse BAL"], true),
    (Column::IdNatPp, &["Identification nationale PP"], true),
    (Column::StructureId, &["Identification Structure"], true),
    (
        Column::StructureName,
        &["Raison Sociale structure BAL"],
        true,
    ),
    (Column::LastName, &["Nom d'exercice"], true),
    (Column::FirstName, &["Prénom d'exercice"], true),
    (Column::Service, &["Service de rattachement"], false),
    (Column::Civility, &["Civilité d'exercice"], false),
    (Column::Profession, &["Libellé Profession"], false),
    (Column::Specialty, &["Libellé savoir-faire"], false),
    (Column::PostalCode, &["Code postal structure BAL"], false),
    (Column::City, &["L6LIGNEACHEMINEMENT structure BAL"], false),
    // Not in the public file (red-listed mailboxes are not published) but in operator exports.
    (Column::RedList, &["Liste rouge", "listeRouge"], false),
];

const PERSONNE_ACTIVITE: &[Spec] = &[
    (Column::IdNatPp, &["Identification nationale PP"], true),
    (Column::LastName, &["Nom d'exercice"], true),
    (Column::FirstName, &["Prénom d'exercice"], true),
    (Column::PsCivility, &["Libellé civilité d'exercice"], false),
    (Column::PsProfessionCode, &["Code profession"], false),
    (Column::PsProfession, &["Libellé profession"], false),
    (Column::PsSpecialty, &["Libellé savoir-faire"], false),
    (Column::PsPracticeMode, &["Libellé mode exercice"], false),
    (Column::PsSiret, &["Numéro SIRET site"], false),
    (Column::PsFiness, &["Numéro FINESS site"], false),
    (
        Column::PsStructureId,
        &["Identifiant technique de la structure"],
        false,
    ),
    (Column::PsStructureName, &["Raison sociale site"], false),
    (
        Column::PsPostalCode,
        &["Code postal (coord. structure)"],
        false,
    ),
    (
        Column::PsCity,
        &["Libellé commune (coord. structure)"],
        false,
    ),
    (Column::PsSector, &["Libellé secteur d'activité"], false),
];

/// Where each column the importer reads sits in this file's lines.
#[derive(Clone, Debug)]
pub(crate) struct ColumnMap {
    pub kind: FileKind,
    /// Fields a line must have (header names; a trailing empty name from a final `|` is dropped).
    pub width: usize,
    positions: Vec<(Column, usize)>,
}

impl ColumnMap {
    /// Reads the header: which file it is, and where the columns are. Unknown columns are
    /// ignored; absent required ones are all reported at once.
    pub fn from_header(header: &str) -> Result<ColumnMap> {
        let mut names: Vec<String> = header.split('|').map(normalize_name).collect();
        if names.len() > 1 && names.last().is_some_and(String::is_empty) {
            names.pop();
        }
        let has = |name: &str| names.iter().any(|n| *n == normalize_name(name));
        let kind = if has("Adresse BAL") || has("Type de BAL") {
            FileKind::ExtractionCorrespondance
        } else if has("Identification nationale PP") {
            FileKind::PersonneActivite
        } else {
            return Err(Error::UnknownHeader {
                first_columns: header.split('|').take(4).map(str::to_owned).collect(),
            });
        };
        let specs = match kind {
            FileKind::ExtractionCorrespondance => CORRESPONDANCE,
            FileKind::PersonneActivite => PERSONNE_ACTIVITE,
        };
        let mut positions = Vec::new();
        let mut missing = Vec::new();
        for (column, accepted, required) in specs {
            let found = accepted.iter().find_map(|name| {
                let name = normalize_name(name);
                names.iter().position(|n| *n == name)
            });
            match found {
                Some(index) => positions.push((*column, index)),
                None if *required => missing.push(accepted[0]),
                None => {}
            }
        }
        if !missing.is_empty() {
            return Err(Error::MissingColumns {
                file: kind.as_str(),
                missing,
            });
        }
        Ok(ColumnMap {
            kind,
            width: names.len(),
            positions,
        })
    }

    /// The index of `column` in a line, if the file has it.
    pub fn index(&self, column: Column) -> Option<usize> {
        self.positions
            .iter()
            .find(|(c, _)| *c == column)
            .map(|(_, index)| *index)
    }
}

/// Header names compared without surrounding spaces, case, or typographic apostrophes.
fn normalize_name(name: &str) -> String {
    name.trim().replace('\u{2019}', "'").to_lowercase()
}
