//! One streaming pass over a whole CDA document (quick-xml, no tree): checks it is well
//! formed and entity-free, finds where the header ends (the root's `component`), and
//! summarises the body: the decoded size of an N1 embedded document, or the titles and
//! narrative text of N3 sections. The header alone then goes to the tree parser, so the
//! large body (embedded PDFs, coded entries) is never built into nodes.

use base64::Engine;
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::error::{CdaError, Result};
use crate::model::{Body, Section};

/// What the pass found.
pub(crate) struct Scanned {
    /// Byte offset of the body's `<component>`, if there is one.
    pub header_end: Option<usize>,
    /// The root element's qualified name, to close the header text.
    pub root_name: String,
    pub body: Option<Body>,
}

/// Where the pass stands in the body.
enum Mode {
    Header,
    /// In `nonXMLBody`; `Some` while inside its `text`.
    Unstructured {
        media_type: String,
        b64: bool,
        data: Option<Vec<u8>>,
    },
    Structured {
        sections: Vec<Section>,
        current: Option<Section>,
        capture: Capture,
    },
    /// The body is something else (or done): skip to the end.
    Other,
}

/// Which text of the current section is being collected.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Capture {
    None,
    Title,
    Text,
}

pub(crate) fn scan(file: &str, text: &str) -> Result<Scanned> {
    let xml_error = |reason: String| CdaError::Xml {
        file: file.to_string(),
        reason,
    };
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut depth = 0usize;
    let mut root_name = String::new();
    let mut header_end = None;
    let mut mode = Mode::Header;
    let mut body = None;
    loop {
        let before = reader.buffer_position() as usize;
        let event = reader
            .read_event()
            .map_err(|e| xml_error(format!("{e} (at byte {})", reader.error_position())))?;
        match event {
            Event::DocType(_) => {
                return Err(xml_error(
                    "a DTD or entity declaration is not allowed".into(),
                ));
            }
            Event::Eof => break,
            Event::Start(e) => {
                depth += 1;
                start(
                    &e,
                    depth,
                    before,
                    &mut root_name,
                    &mut header_end,
                    &mut mode,
                );
            }
            Event::Empty(e) => {
                start(
                    &e,
                    depth + 1,
                    before,
                    &mut root_name,
                    &mut header_end,
                    &mut mode,
                );
                end(depth + 1, &mut mode, &mut body, file)?;
            }
            Event::End(_) => {
                end(depth, &mut mode, &mut body, file)?;
                depth = depth.saturating_sub(1);
            }
            Event::Text(t) => collect(&mut mode, &t),
            Event::CData(c) => collect(&mut mode, &c),
            Event::GeneralRef(r) => {
                let resolved = match &*r {
                    "amp" => '&',
                    "lt" => '<',
                    "gt" => '>',
                    "quot" => '"',
                    "apos" => '\'',
                    _ => r
                        .resolve_char_ref()
                        .ok()
                        .flatten()
                        .ok_or_else(|| xml_error(format!("undeclared entity &{};", &*r)))?,
                };
                collect(&mut mode, resolved.encode_utf8(&mut [0u8; 4]));
            }
            _ => {}
        }
    }
    if depth != 0 || root_name.is_empty() {
        return Err(xml_error(
            "the document ends before its root element is closed".into(),
        ));
    }
    Ok(Scanned {
        header_end,
        root_name,
        body,
    })
}

fn start(
    e: &BytesStart,
    depth: usize,
    at: usize,
    root_name: &mut String,
    header_end: &mut Option<usize>,
    mode: &mut Mode,
) {
    let name = e.local_name();
    let name = name.as_ref();
    match (depth, &mut *mode) {
        (1, _) => *root_name = e.name().as_ref().to_string(),
        (2, Mode::Header) if name == "component" && header_end.is_none() => {
            *header_end = Some(at);
            *mode = Mode::Other;
        }
        (3, Mode::Other) if header_end.is_some() && name == "nonXMLBody" => {
            *mode = Mode::Unstructured {
                media_type: "text/plain".into(),
                b64: false,
                data: None,
            };
        }
        (3, Mode::Other) if header_end.is_some() && name == "structuredBody" => {
            *mode = Mode::Structured {
                sections: Vec::new(),
                current: None,
                capture: Capture::None,
            };
        }
        (
            4,
            Mode::Unstructured {
                media_type,
                b64,
                data,
            },
        ) if name == "text" => {
            for attr in e.attributes().flatten() {
                let value = attr.value.trim().to_string();
                match attr.key.local_name().as_ref() {
                    "mediaType" => *media_type = value,
                    "representation" => *b64 = value == "B64",
                    _ => {}
                }
            }
            *data = Some(Vec::new());
        }
        (5, Mode::Structured { current, .. }) if name == "section" => {
            *current = Some(Section {
                title: None,
                text: String::new(),
            });
        }
        (
            6,
            Mode::Structured {
                current: Some(_),
                capture,
                ..
            },
        ) if name == "title" => *capture = Capture::Title,
        (
            6,
            Mode::Structured {
                current: Some(_),
                capture,
                ..
            },
        ) if name == "text" => *capture = Capture::Text,
        _ => {}
    }
}

fn end(depth: usize, mode: &mut Mode, body: &mut Option<Body>, file: &str) -> Result<()> {
    match (depth, &mut *mode) {
        (
            4,
            Mode::Unstructured {
                media_type,
                b64,
                data,
            },
        ) => {
            if let Some(data) = data.take() {
                *body = Some(unstructured(file, std::mem::take(media_type), *b64, &data)?);
                *mode = Mode::Other;
            }
        }
        (3, Mode::Structured { sections, .. }) => {
            *body = Some(Body::Structured {
                sections: std::mem::take(sections),
            });
            *mode = Mode::Other;
        }
        (
            5,
            Mode::Structured {
                sections, current, ..
            },
        ) => {
            if let Some(mut section) = current.take() {
                section.title = section
                    .title
                    .map(|t| t.trim().to_string())
                    .filter(|t| !t.is_empty());
                section.text = section.text.trim().to_string();
                sections.push(section);
            }
        }
        (6, Mode::Structured { capture, .. }) => *capture = Capture::None,
        _ => {}
    }
    Ok(())
}

/// Text of the element being collected, white space collapsed.
fn collect(mode: &mut Mode, text: &str) {
    match mode {
        Mode::Unstructured {
            data: Some(data), ..
        } => data.extend(text.bytes().filter(|b| !b.is_ascii_whitespace())),
        Mode::Structured {
            current: Some(section),
            capture,
            ..
        } if *capture != Capture::None => {
            let target = match capture {
                Capture::Title => section.title.get_or_insert_with(String::new),
                _ => &mut section.text,
            };
            append_collapsed(target, text);
        }
        _ => {}
    }
}

fn append_collapsed(target: &mut String, text: &str) {
    let starts_with_space = text.starts_with(char::is_whitespace);
    for (i, word) in text.split_whitespace().enumerate() {
        if !target.is_empty() && (i > 0 || starts_with_space) && !target.ends_with(' ') {
            target.push(' ');
        }
        target.push_str(word);
    }
    if text.ends_with(char::is_whitespace) && !target.is_empty() && !target.ends_with(' ') {
        target.push(' ');
    }
}

fn unstructured(file: &str, media_type: String, b64: bool, data: &[u8]) -> Result<Body> {
    let bad = |reason: String| CdaError::Body {
        file: file.to_string(),
        reason,
    };
    if !b64 {
        return Ok(Body::Unstructured {
            media_type,
            size: data.len(),
        });
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|e| bad(format!("nonXMLBody is not valid base64 ({e})")))?;
    if media_type == "application/pdf" && !decoded.starts_with(b"%PDF") {
        return Err(bad(
            "nonXMLBody declares application/pdf but does not start with %PDF".into(),
        ));
    }
    Ok(Body::Unstructured {
        media_type,
        size: decoded.len(),
    })
}
