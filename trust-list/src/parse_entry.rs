//! One `<Domaine>` of the liste blanche: its fields and their validation.

use mssd_certs::DistinguishedName;
use mssd_core::normalize_domain;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::model::OperatorEntry;

/// A text field of `<Domaine>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Field {
    Name,
    Description,
    OperatorDn,
    ResponsableContact,
    SupportContact,
    UpdatedAt,
}

impl Field {
    const ALL: [Field; 6] = [
        Field::Name,
        Field::Description,
        Field::OperatorDn,
        Field::ResponsableContact,
        Field::SupportContact,
        Field::UpdatedAt,
    ];

    pub(crate) fn element(self) -> &'static str {
        match self {
            Field::Name => "Nom",
            Field::Description => "Description",
            Field::OperatorDn => "DNCertificatOperateur",
            Field::ResponsableContact => "ResponsableContact",
            Field::SupportContact => "SupportContact",
            Field::UpdatedAt => "DateMAJ",
        }
    }

    pub(crate) fn from_element(local: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.element() == local)
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// The `<Domaine>` being read.
pub(crate) struct DomainBuilder {
    pub(crate) start: u64,
    pub(crate) fields: [Option<String>; 6],
    /// First structural problem seen inside it; the entry is skipped for it.
    pub(crate) problem: Option<String>,
}

/// Validates one `<Domaine>`: (normalised domain, name as written, operator) or why not.
pub(crate) fn build_operator(
    builder: &DomainBuilder,
) -> std::result::Result<(String, String, OperatorEntry), String> {
    if let Some(problem) = &builder.problem {
        return Err(problem.clone());
    }
    let field = |f: Field| {
        builder.fields[f.index()]
            .as_deref()
            .filter(|value| !value.is_empty())
    };
    let name = field(Field::Name).ok_or("no <Nom> (or an empty one)")?;
    let domain =
        normalize_domain(name).map_err(|e| format!("<Nom> {name:?} is not a domain name: {e}"))?;
    let dn_text = field(Field::OperatorDn)
        .ok_or_else(|| format!("domain {domain}: no <DNCertificatOperateur> (or an empty one)"))?;
    let dn = DistinguishedName::parse(dn_text)
        .map_err(|e| format!("domain {domain}: bad <DNCertificatOperateur>: {e}"))?;
    let updated_at = field(Field::UpdatedAt)
        .map(|value| {
            OffsetDateTime::parse(value, &Rfc3339).map_err(|e| {
                format!("domain {domain}: <DateMAJ> {value:?} is not an RFC 3339 date-time: {e}")
            })
        })
        .transpose()?;
    let text = |f: Field| field(f).map(str::to_owned);
    let operator = OperatorEntry {
        dn,
        description: text(Field::Description),
        responsable_contact: text(Field::ResponsableContact),
        support_contact: text(Field::SupportContact),
        updated_at,
    };
    Ok((domain, name.to_owned(), operator))
}
