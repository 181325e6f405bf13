//! The national directory (Annuaire Santé) as the store keeps it: mailboxes from
//! `Extraction_Correspondance_MSSante`, professionals and their activities from
//! `PS_LibreAcces_Personne_activite`. Each import writes a new generation that replaces the
//! previous one in a single commit.

use mssd_core::{Address, MailboxKind};
use serde::{Deserialize, Serialize};

/// Which national file a generation holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DirectorySet {
    /// Mailboxes (one per address) from `Extraction_Correspondance_MSSante`.
    Mailboxes,
    /// Professionals (one per idNat_PS) with their activities from
    /// `PS_LibreAcces_Personne_activite`.
    Professionals,
}

impl DirectorySet {
    pub const ALL: [DirectorySet; 2] = [DirectorySet::Mailboxes, DirectorySet::Professionals];

    /// The name stored in the database and used in reports.
    pub fn as_str(&self) -> &'static str {
        match self {
            DirectorySet::Mailboxes => "mailboxes",
            DirectorySet::Professionals => "professionals",
        }
    }

    pub fn parse(s: &str) -> Option<DirectorySet> {
        Self::ALL.into_iter().find(|set| set.as_str() == s)
    }
}

/// A generation being built or in force. Only one generation per set is in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DirectoryGeneration(pub i64);

/// One mailbox of the national directory. Text fields are `None` when the file leaves them
/// empty.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryMailbox {
    pub address: Address,
    pub kind: MailboxKind,
    /// idNat_PS of the owner (PER mailboxes).
    pub id_nat_ps: Option<String>,
    /// Identification Structure (idNat_Struct).
    pub structure_id: Option<String>,
    /// Raison sociale of the structure.
    pub structure_name: Option<String>,
    pub service: Option<String>,
    pub civility: Option<String>,
    pub last_name: Option<String>,
    pub first_name: Option<String>,
    pub profession: Option<String>,
    pub specialty: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    /// Red-listed (listeRouge): kept for routing, never shown to clients nor published.
    pub red_listed: bool,
}

/// Who a professional is, as the PS file repeats it on each activity line.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfessionalIdentity {
    /// `8`+RPPS or `0`+ADELI.
    pub id_nat_ps: String,
    pub civility: Option<String>,
    pub last_name: Option<String>,
    pub first_name: Option<String>,
    pub profession_code: Option<String>,
    pub profession: Option<String>,
}

/// Where and how a professional practises (one line of the PS file).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivitySite {
    pub specialty: Option<String>,
    pub practice_mode: Option<String>,
    pub siret: Option<String>,
    pub finess: Option<String>,
    /// Identifiant technique de la structure.
    pub structure_id: Option<String>,
    pub structure_name: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub sector: Option<String>,
}

/// One line of `PS_LibreAcces_Personne_activite`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryActivity {
    pub professional: ProfessionalIdentity,
    pub site: ActivitySite,
}

/// A professional with every activity the file lists for them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryProfessional {
    pub identity: ProfessionalIdentity,
    pub sites: Vec<ActivitySite>,
}

/// A chunk of rows for a generation; its kind must match the generation's set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DirectoryRows {
    Mailboxes(Vec<DirectoryMailbox>),
    Activities(Vec<DirectoryActivity>),
}

impl DirectoryRows {
    pub fn set(&self) -> DirectorySet {
        match self {
            DirectoryRows::Mailboxes(_) => DirectorySet::Mailboxes,
            DirectoryRows::Activities(_) => DirectorySet::Professionals,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            DirectoryRows::Mailboxes(rows) => rows.len(),
            DirectoryRows::Activities(rows) => rows.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What replacing the generation in force by a new one would change. Keys are addresses
/// (mailboxes) or idNat_PS (professionals); the key lists hold at most the sample size asked.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryDiff {
    pub set: Option<DirectorySet>,
    /// Entries in the generation in force (0 when there is none).
    pub previous: u64,
    /// Entries in the new generation.
    pub next: u64,
    /// Lines written to the new generation; `lines - next` lines were merged into another.
    pub lines: u64,
    pub added: u64,
    pub removed: u64,
    pub changed: u64,
    pub added_sample: Vec<String>,
    pub removed_sample: Vec<String>,
    pub changed_sample: Vec<String>,
}

/// The generation in force for one set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectorySetStatus {
    pub set: DirectorySet,
    pub generation: DirectoryGeneration,
    /// Distinct entries (mailboxes or professionals).
    pub entries: u64,
    /// Unix seconds of the commit that put it in force.
    pub imported_at: i64,
    /// Where it came from (a file name or URL, as the importer said).
    pub source: String,
}
