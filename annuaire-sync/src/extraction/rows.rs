//! One data line of either file into a directory row, or the reason it is malformed.

use mssd_core::{Address, IdNatPs, MailboxKind};
use mssd_store::{ActivitySite, DirectoryActivity, DirectoryMailbox, ProfessionalIdentity};

use super::columns::{Column, ColumnMap, FileKind};

/// A parsed line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Row {
    Mailbox(DirectoryMailbox),
    Activity(DirectoryActivity),
}

/// Column positions resolved once per file, so a line costs only indexing.
#[derive(Clone, Debug)]
pub(crate) struct RowLayout {
    pub kind: FileKind,
    pub width: usize,
    slots: Vec<Option<usize>>,
}

const ALL_COLUMNS: [Column; 26] = [
    Column::BalType,
    Column::BalAddress,
    Column::IdNatPp,
    Column::StructureId,
    Column::StructureName,
    Column::Service,
    Column::Civility,
    Column::LastName,
    Column::FirstName,
    Column::Profession,
    Column::Specialty,
    Column::PostalCode,
    Column::City,
    Column::RedList,
    Column::PsCivility,
    Column::PsProfessionCode,
    Column::PsProfession,
    Column::PsSpecialty,
    Column::PsPracticeMode,
    Column::PsSiret,
    Column::PsFiness,
    Column::PsStructureId,
    Column::PsStructureName,
    Column::PsPostalCode,
    Column::PsCity,
    Column::PsSector,
];

impl RowLayout {
    pub fn new(map: &ColumnMap) -> RowLayout {
        RowLayout {
            kind: map.kind,
            width: map.width,
            slots: ALL_COLUMNS.iter().map(|c| map.index(*c)).collect(),
        }
    }

    /// Splits a line into its fields; a final empty field from a trailing `|` is tolerated.
    pub fn split<'a>(&self, line: &'a str, fields: &mut Vec<&'a str>) -> Result<(), String> {
        fields.clear();
        fields.extend(line.split('|'));
        if fields.len() == self.width + 1 && fields.last().is_some_and(|f| f.is_empty()) {
            fields.pop();
        }
        if fields.len() != self.width {
            return Err(format!(
                "expected {} fields, found {}",
                self.width,
                fields.len()
            ));
        }
        Ok(())
    }

    /// Parses the fields of one line (as split by [`RowLayout::split`]).
    pub fn row(&self, fields: &[&str]) -> Result<Row, String> {
        match self.kind {
            FileKind::ExtractionCorrespondance => self.mailbox(fields).map(Row::Mailbox),
            FileKind::PersonneActivite => self.activity(fields).map(Row::Activity),
        }
    }

    fn text<'a>(&self, fields: &[&'a str], column: Column) -> Option<&'a str> {
        let slot = self.slots.get(column as usize).copied().flatten()?;
        let value = fields.get(slot)?.trim();
        (!value.is_empty()).then_some(value)
    }

    fn owned(&self, fields: &[&str], column: Column) -> Option<String> {
        self.text(fields, column).map(str::to_owned)
    }

    fn id_nat(&self, fields: &[&str]) -> Result<Option<String>, String> {
        self.text(fields, Column::IdNatPp)
            .map(|raw| {
                IdNatPs::parse(raw)
                    .map(|id| id.as_str().to_owned())
                    .map_err(|e| format!("bad Identification nationale PP: {e}"))
            })
            .transpose()
    }

    fn mailbox(&self, f: &[&str]) -> Result<DirectoryMailbox, String> {
        let raw_address = self
            .text(f, Column::BalAddress)
            .ok_or("Adresse BAL is empty")?;
        let address = Address::parse(raw_address).map_err(|e| format!("bad Adresse BAL: {e}"))?;
        let raw_kind = self
            .text(f, Column::BalType)
            .ok_or("Type de BAL is empty")?;
        let kind = match MailboxKind::parse(raw_kind) {
            Ok(
                kind @ (MailboxKind::Per | MailboxKind::Org | MailboxKind::App | MailboxKind::Cab),
            ) => kind,
            _ => {
                return Err(format!(
                    "Type de BAL {raw_kind:?} is not PER, ORG, APP or CAB"
                ));
            }
        };
        Ok(DirectoryMailbox {
            address,
            kind,
            id_nat_ps: self.id_nat(f)?,
            structure_id: self.owned(f, Column::StructureId),
            structure_name: self.owned(f, Column::StructureName),
            service: self.owned(f, Column::Service),
            civility: self.owned(f, Column::Civility),
            last_name: self.owned(f, Column::LastName),
            first_name: self.owned(f, Column::FirstName),
            profession: self.owned(f, Column::Profession),
            specialty: self.owned(f, Column::Specialty),
            postal_code: self.owned(f, Column::PostalCode),
            city: self.owned(f, Column::City),
            red_listed: self.text(f, Column::RedList).is_some_and(|v| {
                matches!(
                    v.to_ascii_lowercase().as_str(),
                    "1" | "o" | "oui" | "true" | "y" | "yes"
                )
            }),
        })
    }

    fn activity(&self, f: &[&str]) -> Result<DirectoryActivity, String> {
        let id_nat_ps = self
            .id_nat(f)?
            .ok_or("Identification nationale PP is empty")?;
        Ok(DirectoryActivity {
            professional: ProfessionalIdentity {
                id_nat_ps,
                civility: self.owned(f, Column::PsCivility),
                last_name: self.owned(f, Column::LastName),
                first_name: self.owned(f, Column::FirstName),
                profession_code: self.owned(f, Column::PsProfessionCode),
                profession: self.owned(f, Column::PsProfession),
            },
            site: ActivitySite {
                specialty: self.owned(f, Column::PsSpecialty),
                practice_mode: self.owned(f, Column::PsPracticeMode),
                siret: self.owned(f, Column::PsSiret),
                finess: self.owned(f, Column::PsFiness),
                structure_id: self.owned(f, Column::PsStructureId),
                structure_name: self.owned(f, Column::PsStructureName),
                postal_code: self.owned(f, Column::PsPostalCode),
                city: self.owned(f, Column::PsCity),
                sector: self.owned(f, Column::PsSector),
            },
        })
    }
}
