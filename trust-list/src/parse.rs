//! Streaming, sans-I/O parser of the ANS liste blanche XML into a [`TrustList`].
//!
//! Policy for bad entries: a `<Domaine>` that cannot be used (no `<Nom>`, bad name, no or bad
//! DN, bad `<DateMAJ>`, repeated field) is SKIPPED and counted in the [`ParseReport`] with its
//! position and reason. Refusing a whole list for one bad entry could block every update; keeping
//! a bad entry would be unsafe. Mass damage is caught by the refresh rules (empty list, too many
//! domains removed at once). Anything that makes the document itself doubtful (not XML,
//! truncated, wrong root or namespace, missing or bad `<DateDeGeneration>`) refuses the file.

use std::sync::Arc;

use quick_xml::Reader;
use quick_xml::events::{BytesRef, Event};
use quick_xml::name::{Namespace, NamespaceResolver, ResolveResult};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::NAMESPACE;
use crate::error::{Error, Result};
use crate::fast_hash::FastMap;
use crate::flat_dn::Scratch;
use crate::model::{DomainEntry, ParseReport, SkippedEntry, TrustList};
use crate::parse_entry::{Built, DomainBuilder, Field, Known, build_operator};
use crate::position::LineIndex;

const ROOT: &str = "ListeBlancheMSSante";
const GENERATION_DATE: &str = "DateDeGeneration";
const DOMAIN_LIST: &str = "ListeDomaines";
const DOMAIN: &str = "Domaine";
/// Longest text kept for one field; real values are a few hundred bytes at most.
const MAX_FIELD_BYTES: usize = 16 * 1024;

/// Parses a liste blanche. Pure: no I/O, the whole document in `input`.
pub fn parse(input: &[u8]) -> Result<TrustList> {
    parse_with_digest(input, hex::encode(Sha256::digest(input)), None)
}

/// [`parse`] when the caller already computed the SHA-256 of `input` (to verify a checksum).
/// `previous` (the list in force) only saves work: what an entry repeats from it (its
/// normalised domain, its parsed DN) is reused; the result is the same without it.
pub(crate) fn parse_with_digest(
    input: &[u8],
    sha256: String,
    previous: Option<&TrustList>,
) -> Result<TrustList> {
    let mut parser = Parser::new(input, previous);
    let text = std::str::from_utf8(input).map_err(|e| {
        let position = parser.lines.position(e.valid_up_to() as u64);
        Error::NotXml {
            position,
            detail: "the bytes are not UTF-8 text".to_owned(),
        }
    })?;
    // quick-xml positions count from the start of what it reads: the BOM is skipped first.
    let (body, bom) = match text.strip_prefix('\u{feff}') {
        Some(rest) => (rest, 3u64),
        None => (text, 0u64),
    };
    let mut reader = Reader::from_str(body);
    reader.config_mut().expand_empty_elements = true;
    reader.config_mut().check_end_names = true;
    // Namespace scopes kept as `NsReader` keeps them (a scope per start tag, closed before the
    // event after its end tag), but only start tags are resolved: resolving every event
    // (`read_resolved_event`) cost a fifth of the XML time.
    let mut namespaces = NamespaceResolver::default();
    let mut scope_ended = false;
    loop {
        let before = reader.buffer_position() + bom;
        if std::mem::take(&mut scope_ended) {
            namespaces.pop();
        }
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(e) => return Err(parser.xml_error(&e, reader.error_position() + bom)),
        };
        match event {
            Event::Start(start) => {
                if let Err(e) = namespaces.push(&start) {
                    let e = quick_xml::Error::from(e);
                    return Err(parser.xml_error(&e, reader.error_position() + bom));
                }
                let (namespace, local) = namespaces.resolve_element(start.name());
                let ours =
                    matches!(namespace, ResolveResult::Bound(Namespace(ns)) if ns == NAMESPACE);
                parser.start(ours, local.as_ref(), &namespace, before)?;
            }
            Event::End(_) => {
                scope_ended = true;
                parser.end(before)?;
            }
            // Not produced with `expand_empty_elements`; scoped as `NsReader` would anyway.
            Event::Empty(empty) => {
                if let Err(e) = namespaces.push(&empty) {
                    let e = quick_xml::Error::from(e);
                    return Err(parser.xml_error(&e, reader.error_position() + bom));
                }
                scope_ended = true;
            }
            // Most text is the whitespace between elements, which no frame keeps: it is not
            // decoded.
            Event::Text(_) | Event::CData(_) if parser.ignores_text() => {}
            Event::Text(text) => parser.text(&text.xml10_content(), before)?,
            Event::CData(data) => parser.text(&data.xml10_content(), before)?,
            Event::GeneralRef(reference) => parser.reference(&reference, before)?,
            Event::Eof => break,
            // Declaration, comments, processing instructions, DOCTYPE: nothing to keep.
            _ => {}
        }
    }
    parser.finish(input.len() as u64, sha256)
}

/// An open element.
#[derive(Debug)]
enum Frame {
    Root,
    GenerationDate,
    DomainList,
    Domain,
    Field(Field),
    /// Unknown or foreign-namespace element: ignored with its content.
    Other(String),
}

impl Frame {
    fn name(&self) -> &str {
        match self {
            Frame::Root => ROOT,
            Frame::GenerationDate => GENERATION_DATE,
            Frame::DomainList => DOMAIN_LIST,
            Frame::Domain => DOMAIN,
            Frame::Field(field) => field.element(),
            Frame::Other(name) => name,
        }
    }

    fn collects_text(&self) -> bool {
        matches!(self, Frame::GenerationDate | Frame::Field(_))
    }
}

struct Parser<'a> {
    lines: LineIndex<'a>,
    previous: Option<&'a TrustList>,
    stack: Vec<Frame>,
    text: String,
    text_start: u64,
    root_closed: bool,
    generated_at: Option<OffsetDateTime>,
    domain: Option<DomainBuilder>,
    domains: FastMap<Arc<str>, DomainEntry>,
    report: ParseReport,
    /// Trimmed texts of the current `<Domaine>`'s fields (see [`DomainBuilder::fields`]).
    field_texts: String,
    dn_scratch: Scratch,
}

impl<'a> Parser<'a> {
    fn new(input: &'a [u8], previous: Option<&'a TrustList>) -> Self {
        Parser {
            lines: LineIndex::new(input),
            previous,
            stack: Vec::with_capacity(8),
            text: String::new(),
            text_start: 0,
            root_closed: false,
            generated_at: None,
            domain: None,
            // A new list has about the domains of the one in force: sized once, the map is
            // not rehashed (every key hashed again) while it grows.
            domains: FastMap::with_capacity_and_hasher(
                previous.map_or(0, TrustList::domain_count),
                Default::default(),
            ),
            report: ParseReport::default(),
            field_texts: String::new(),
            dn_scratch: Scratch::default(),
        }
    }

    fn start(
        &mut self,
        ours: bool,
        local: &str,
        namespace: &ResolveResult<'_>,
        at: u64,
    ) -> Result<()> {
        let frame = match self.stack.last() {
            None => {
                if self.root_closed {
                    return Err(self.malformed(at, format!("a second root element <{local}>")));
                }
                if !(ours && local == ROOT) {
                    let found = match namespace {
                        ResolveResult::Bound(Namespace(ns)) => {
                            format!("<{local}> in namespace {ns}")
                        }
                        _ => format!("<{local}> in no namespace"),
                    };
                    return Err(Error::WrongRoot {
                        position: self.lines.position(at),
                        found,
                    });
                }
                Frame::Root
            }
            Some(Frame::Root) if ours && local == GENERATION_DATE => {
                if self.generated_at.is_some() {
                    return Err(self.malformed(at, format!("<{GENERATION_DATE}> appears twice")));
                }
                self.begin_text(at);
                Frame::GenerationDate
            }
            Some(Frame::Root) if ours && local == DOMAIN_LIST => Frame::DomainList,
            Some(Frame::DomainList) if ours && local == DOMAIN => {
                self.field_texts.clear();
                self.domain = Some(DomainBuilder {
                    start: at,
                    fields: Default::default(),
                    problem: None,
                });
                Frame::Domain
            }
            Some(Frame::Domain) if ours => match Field::from_element(local) {
                Some(field) => {
                    self.begin_text(at);
                    Frame::Field(field)
                }
                None => Frame::Other(local.to_owned()),
            },
            Some(Frame::GenerationDate) => {
                return Err(self.malformed(
                    at,
                    format!("unexpected element <{local}> inside <{GENERATION_DATE}>"),
                ));
            }
            Some(Frame::Field(field)) => {
                let field = *field;
                self.domain_problem(format!(
                    "unexpected element <{local}> inside <{}>",
                    field.element()
                ));
                Frame::Other(local.to_owned())
            }
            Some(_) => Frame::Other(local.to_owned()),
        };
        self.stack.push(frame);
        Ok(())
    }

    fn end(&mut self, at: u64) -> Result<()> {
        let Some(frame) = self.stack.pop() else {
            return Err(self.malformed(at, "closing tag without an open element".to_owned()));
        };
        match frame {
            Frame::Root => self.root_closed = true,
            Frame::GenerationDate => {
                let value = std::mem::take(&mut self.text);
                let date =
                    OffsetDateTime::parse(value.trim(), &Rfc3339).map_err(|e| Error::BadDate {
                        position: self.lines.position(self.text_start),
                        element: GENERATION_DATE,
                        value: value.trim().to_owned(),
                        detail: e.to_string(),
                    })?;
                self.generated_at = Some(date);
            }
            Frame::Field(field) => {
                // Both buffers are kept from field to field: no allocation per value.
                let value = self.text.trim();
                if let Some(domain) = self.domain.as_mut() {
                    let slot = &mut domain.fields[field.index()];
                    if slot.is_some() {
                        if domain.problem.is_none() {
                            domain.problem = Some(format!("<{}> appears twice", field.element()));
                        }
                    } else {
                        let start = self.field_texts.len();
                        self.field_texts.push_str(value);
                        *slot = Some(start..self.field_texts.len());
                    }
                }
            }
            Frame::Domain => {
                if let Some(domain) = self.domain.take() {
                    self.finish_domain(domain);
                }
            }
            Frame::DomainList | Frame::Other(_) => {}
        }
        Ok(())
    }

    /// True inside an element whose text is ignored: [`Parser::text`] would do nothing.
    fn ignores_text(&self) -> bool {
        self.stack
            .last()
            .is_some_and(|frame| !frame.collects_text())
    }

    fn text(&mut self, text: &str, at: u64) -> Result<()> {
        match self.stack.last() {
            Some(frame) if frame.collects_text() => self.push_text(text),
            Some(_) => Ok(()),
            None if text.trim().is_empty() => Ok(()),
            None => Err(Error::NotXml {
                position: self.lines.position(at),
                detail: "text outside the root element".to_owned(),
            }),
        }
    }

    /// `&name;` and `&#N;` references: the five XML entities and character references only
    /// (there is no DTD to define others).
    fn reference(&mut self, reference: &BytesRef<'_>, at: u64) -> Result<()> {
        let resolved = match reference.resolve_char_ref() {
            Ok(Some(c)) => c,
            Ok(None) => match reference.as_ref() {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                other => {
                    return Err(self.malformed(at, format!("undefined entity &{other};")));
                }
            },
            Err(e) => return Err(self.malformed(at, format!("bad character reference: {e}"))),
        };
        match self.stack.last() {
            Some(frame) if frame.collects_text() => {
                let mut buf = [0u8; 4];
                self.push_text(resolved.encode_utf8(&mut buf))
            }
            _ => Ok(()),
        }
    }

    fn begin_text(&mut self, at: u64) {
        self.text.clear();
        self.text_start = at;
    }

    fn push_text(&mut self, text: &str) -> Result<()> {
        if self.text.len() + text.len() > MAX_FIELD_BYTES {
            let element = self.stack.last().map_or(ROOT, Frame::name).to_owned();
            if element == GENERATION_DATE {
                return Err(self.malformed(
                    self.text_start,
                    format!("<{element}> is longer than {MAX_FIELD_BYTES} bytes"),
                ));
            }
            self.domain_problem(format!(
                "<{element}> is longer than {MAX_FIELD_BYTES} bytes"
            ));
            return Ok(());
        }
        self.text.push_str(text);
        Ok(())
    }

    fn domain_problem(&mut self, problem: String) {
        if let Some(domain) = self.domain.as_mut()
            && domain.problem.is_none()
        {
            domain.problem = Some(problem);
        }
    }

    fn finish_domain(&mut self, mut builder: DomainBuilder) {
        self.report.elements += 1;
        let known = Known {
            kept: &self.domains,
            previous: self.previous,
        };
        match build_operator(
            &mut builder,
            &self.field_texts,
            &known,
            &mut self.dn_scratch,
        ) {
            Ok(built) => add(&mut self.domains, &mut self.report, built),
            Err(reason) => {
                self.report.skipped += 1;
                if self.report.skipped_details.len() < ParseReport::MAX_SKIPPED_DETAILS {
                    let position = self.lines.position(builder.start);
                    self.report
                        .skipped_details
                        .push(SkippedEntry { position, reason });
                }
            }
        }
    }

    fn finish(mut self, end: u64, sha256: String) -> Result<TrustList> {
        if let Some(open) = self.stack.last() {
            let open_element = open.name().to_owned();
            return Err(Error::Truncated {
                position: self.lines.position(end),
                open_element,
            });
        }
        if !self.root_closed {
            return Err(Error::NotXml {
                position: self.lines.position(end),
                detail: "no root element".to_owned(),
            });
        }
        let generated_at = self.generated_at.ok_or(Error::MissingGenerationDate)?;
        let mut domains_by_dn = Vec::with_capacity(self.report.entries);
        for entry in self.domains.values() {
            for operator in &entry.operators {
                let hash = operator.dn.hash();
                domains_by_dn.push((hash, Arc::clone(&entry.domain)));
            }
        }
        domains_by_dn.sort_unstable();
        // Two DNs of one domain with the same hash would list it twice.
        domains_by_dn.dedup();
        Ok(TrustList {
            generated_at: Some(generated_at),
            domains: self.domains,
            domains_by_dn,
            report: self.report,
            sha256: Some(sha256),
        })
    }

    fn malformed(&mut self, at: u64, detail: String) -> Error {
        Error::Malformed {
            position: self.lines.position(at),
            detail,
        }
    }

    fn xml_error(&mut self, error: &quick_xml::Error, at: u64) -> Error {
        let position = self.lines.position(at);
        match error {
            // Every syntax error of a complete in-memory input means it ended inside markup.
            quick_xml::Error::Syntax(syntax) => match self.stack.last() {
                Some(open) => Error::Truncated {
                    position,
                    open_element: open.name().to_owned(),
                },
                None => Error::NotXml {
                    position,
                    detail: syntax.to_string(),
                },
            },
            quick_xml::Error::Encoding(e) => Error::NotXml {
                position,
                detail: e.to_string(),
            },
            other => Error::Malformed {
                position,
                detail: other.to_string(),
            },
        }
    }
}

/// Keeps a valid entry: a new domain, another DN for a known one, or a duplicate (counted).
fn add(domains: &mut FastMap<Arc<str>, DomainEntry>, report: &mut ParseReport, built: Built<'_>) {
    let Built {
        domain,
        name_as_written,
        operator,
    } = built;
    // Looked up by `&str` first: the shared key is made only for a new domain.
    if let Some(entry) = domains.get_mut(&*domain) {
        if entry.has_operator(&operator.dn) {
            report.duplicates += 1;
            return;
        }
        entry.operators.push(operator);
    } else {
        let domain: Arc<str> = Arc::from(domain);
        domains.insert(
            Arc::clone(&domain),
            DomainEntry {
                domain,
                name_as_written: name_as_written.to_owned(),
                operators: vec![operator],
            },
        );
    }
    report.entries += 1;
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
