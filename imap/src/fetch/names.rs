//! Owned ('static) copies of requested item names: the plan outlives the parsed command.
//! (imap-types implements this through `bounded-static`, which this crate does not depend on.)

use imap_codec::imap_types::core::{AString, AtomExt, IString, Literal, Quoted, Vec1};
use imap_codec::imap_types::extensions::utf8::QuotedUtf8;
use imap_codec::imap_types::fetch::{MessageDataItemName, Section};

pub(super) fn owned_name(name: &MessageDataItemName<'_>) -> MessageDataItemName<'static> {
    use MessageDataItemName as N;
    match name {
        N::Body => N::Body,
        N::BodyExt {
            section,
            partial,
            peek,
        } => N::BodyExt {
            section: section.as_ref().map(owned_section),
            partial: *partial,
            peek: *peek,
        },
        N::BodyStructure => N::BodyStructure,
        N::Envelope => N::Envelope,
        N::Flags => N::Flags,
        N::InternalDate => N::InternalDate,
        N::Rfc822 => N::Rfc822,
        N::Rfc822Header => N::Rfc822Header,
        N::Rfc822Size => N::Rfc822Size,
        N::Rfc822Text => N::Rfc822Text,
        N::Uid => N::Uid,
        N::Binary {
            section,
            partial,
            peek,
        } => N::Binary {
            section: section.clone(),
            partial: *partial,
            peek: *peek,
        },
        N::BinarySize { section } => N::BinarySize {
            section: section.clone(),
        },
        N::ModSeq => N::ModSeq,
    }
}

pub(super) fn owned_section(section: &Section<'_>) -> Section<'static> {
    match section {
        Section::Part(part) => Section::Part(part.clone()),
        Section::Header(part) => Section::Header(part.clone()),
        Section::HeaderFields(part, names) => {
            Section::HeaderFields(part.clone(), owned_names(names))
        }
        Section::HeaderFieldsNot(part, names) => {
            Section::HeaderFieldsNot(part.clone(), owned_names(names))
        }
        Section::Text(part) => Section::Text(part.clone()),
        Section::Mime(part) => Section::Mime(part.clone()),
    }
}

fn owned_names(names: &Vec1<AString<'_>>) -> Vec1<AString<'static>> {
    // Same length as the validated non-empty input.
    Vec1::unvalidated(names.as_ref().iter().map(owned_astring).collect())
}

/// Copies of already validated values, so the unvalidated constructors hold.
fn owned_astring(value: &AString<'_>) -> AString<'static> {
    match value {
        AString::Atom(atom) => AString::Atom(AtomExt::unvalidated(atom.as_ref().to_owned())),
        AString::String(IString::Literal(literal)) => {
            let mut copy = Literal::unvalidated(literal.data().to_vec());
            copy.set_mode(literal.mode());
            AString::String(IString::Literal(copy))
        }
        AString::String(IString::Quoted(quoted)) => AString::String(IString::Quoted(
            Quoted::unvalidated(quoted.as_ref().to_owned()),
        )),
        AString::String(IString::QuotedUtf8(quoted)) => AString::String(IString::QuotedUtf8(
            QuotedUtf8::unvalidated(quoted.as_ref().to_owned()),
        )),
    }
}
