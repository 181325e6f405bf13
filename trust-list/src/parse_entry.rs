//! One `<Domaine>` of the liste blanche: its fields and their validation.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::Arc;

use mssd_core::normalize_domain;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::fast_hash::FastMap;
use crate::flat_dn::{OperatorDn, Scratch};
use crate::model::{DomainEntry, OperatorEntry, TrustList};

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
    /// Where each field's trimmed text is in the parser's field buffer (reused from entry to
    /// entry) rather than a `String` per field: only the texts kept are copied out.
    pub(crate) fields: [Option<Range<usize>>; 6],
    /// First structural problem seen inside it; the entry is skipped for it.
    pub(crate) problem: Option<String>,
}

/// A valid `<Domaine>`: its normalised domain, `<Nom>` as written, and the operator.
pub(crate) struct Built<'t> {
    pub(crate) domain: Cow<'t, str>,
    pub(crate) name_as_written: &'t str,
    pub(crate) operator: OperatorEntry,
}

/// What a `<Domaine>` may reuse rather than recompute: the domains already kept from this
/// list, and the list in force when refreshing (most of a new list repeats it).
pub(crate) struct Known<'k> {
    pub(crate) kept: &'k FastMap<Arc<str>, DomainEntry>,
    pub(crate) previous: Option<&'k TrustList>,
}

impl<'k> Known<'k> {
    /// The normalised form of `name` and the list in force's entry for it. A name that is a
    /// normalised domain of either list is its own normalised form (normalisation is
    /// idempotent), which spares IDNA processing; each map is searched once at most.
    fn domain<'t>(
        &self,
        name: &'t str,
    ) -> std::result::Result<(Cow<'t, str>, Option<&'k DomainEntry>), String> {
        let in_force = |domain: &str| self.previous.and_then(|p| p.domains.get(domain));
        if let Some(entry) = in_force(name) {
            return Ok((Cow::Borrowed(name), Some(entry)));
        }
        if self.kept.contains_key(name) {
            // Kept from this list but absent from the list in force.
            return Ok((Cow::Borrowed(name), None));
        }
        let domain = normalize_domain(name)
            .map_err(|e| format!("<Nom> {name:?} is not a domain name: {e}"))?;
        let entry = if domain == name {
            None
        } else {
            in_force(&domain)
        };
        Ok((Cow::Owned(domain), entry))
    }
}

/// The list in force's parse of `text` when its entry lists the very same text: parsing is a
/// function of the text, so the result is the same.
fn reused_dn(in_force: Option<&DomainEntry>, text: &str) -> Option<OperatorDn> {
    let operator = in_force?
        .operators
        .iter()
        .find(|o| o.dn.as_written() == text)?;
    Some(operator.dn.clone())
}

/// Validates one `<Domaine>` whose field texts are in `texts`, or says why it is skipped.
pub(crate) fn build_operator<'t>(
    builder: &mut DomainBuilder,
    texts: &'t str,
    known: &Known<'_>,
    scratch: &mut Scratch,
) -> std::result::Result<Built<'t>, String> {
    if let Some(problem) = builder.problem.take() {
        return Err(problem);
    }
    let field = |f: Field| {
        builder.fields[f.index()]
            .clone()
            .and_then(|range| texts.get(range))
            .filter(|value| !value.is_empty())
    };
    let name = field(Field::Name).ok_or("no <Nom> (or an empty one)")?;
    let (domain, in_force) = known.domain(name)?;
    let dn_text = field(Field::OperatorDn)
        .ok_or_else(|| format!("domain {domain}: no <DNCertificatOperateur> (or an empty one)"))?;
    let dn = match reused_dn(in_force, dn_text) {
        Some(dn) => dn,
        None => OperatorDn::parse_with(dn_text, scratch)
            .map_err(|e| format!("domain {domain}: bad <DNCertificatOperateur>: {e}"))?,
    };
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
    Ok(Built {
        domain,
        name_as_written: name,
        operator,
    })
}

#[cfg(test)]
mod tests {
    use mssd_core::normalize_domain;

    /// The parser reuses a name already kept as a key without normalising it again: that
    /// relies on normalisation leaving its own output unchanged.
    #[test]
    fn domain_normalisation_is_idempotent() {
        let names = [
            "etab-1.bench.mssante.fr",
            "Hôpital-Ü-3.bench.mssante.fr",
            "HÔPITAL.FR.",
            "xn--hpital-ixa.fr",
            "XN--HPITAL-IXA.FR",
            "straße.de",
            "ｅｘａｍｐｌｅ.fr",
            "15-20.mssante.fr",
            "a.b.c.d.e.f.g.h",
        ];
        for name in names {
            let once = normalize_domain(name).unwrap();
            assert_eq!(normalize_domain(&once).unwrap(), once, "{name}");
        }
    }
}
