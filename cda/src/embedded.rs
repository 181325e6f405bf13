//! The document a level-1 CDA carries (`nonXMLBody/text`, usually a PDF), decoded, for
//! display. The document was checked when it arrived (`header::parse`); this pass only
//! takes the bytes out again, still refusing a DTD and bounding the size.

use base64::Engine;
use quick_xml::Reader;
use quick_xml::events::Event;

use crate::error::{CdaError, Result};

/// The embedded document: its media type and decoded bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Embedded {
    pub media_type: String,
    pub bytes: Vec<u8>,
}

/// `Ok(None)` when the document has no `nonXMLBody` (a structured, N3, document).
pub fn content(file: &str, xml: &[u8], max_size: usize) -> Result<Option<Embedded>> {
    let bad = |reason: String| CdaError::Body {
        file: file.to_string(),
        reason,
    };
    let text = std::str::from_utf8(xml).map_err(|_| bad("not UTF-8".into()))?;
    let mut reader = Reader::from_str(text);
    let (mut in_body, mut in_text) = (false, false);
    let (mut media_type, mut b64) = (String::new(), false);
    let mut data = Vec::new();
    loop {
        let event = reader
            .read_event()
            .map_err(|e| bad(format!("not well-formed XML ({e})")))?;
        match event {
            Event::DocType(_) => return Err(bad("a DTD is not allowed".into())),
            Event::Start(e) => match e.local_name().as_ref() {
                "nonXMLBody" => in_body = true,
                "text" if in_body => {
                    in_text = true;
                    for attr in e.attributes().flatten() {
                        let value = attr.value.trim().to_string();
                        match attr.key.local_name().as_ref() {
                            "mediaType" => media_type = value,
                            "representation" => b64 = value.eq_ignore_ascii_case("B64"),
                            _ => {}
                        }
                    }
                }
                _ => {}
            },
            Event::Text(t) if in_text => {
                data.extend_from_slice(t.as_bytes());
                if data.len() > max_size.saturating_mul(2) {
                    return Err(bad("the embedded document is over the size limit".into()));
                }
            }
            Event::CData(t) if in_text => data.extend_from_slice(t.as_bytes()),
            Event::End(e) if in_text && e.local_name().as_ref() == "text" => break,
            Event::End(e) if e.local_name().as_ref() == "nonXMLBody" => break,
            Event::Eof => break,
            _ => {}
        }
    }
    if !in_body {
        return Ok(None);
    }
    let bytes = if b64 {
        data.retain(|b| !b.is_ascii_whitespace());
        base64::engine::general_purpose::STANDARD
            .decode(&data)
            .map_err(|e| bad(format!("nonXMLBody is not valid base64 ({e})")))?
    } else {
        data
    };
    if bytes.len() > max_size {
        return Err(bad("the embedded document is over the size limit".into()));
    }
    Ok(Some(Embedded {
        media_type: if media_type.is_empty() {
            "application/octet-stream".into()
        } else {
            media_type
        },
        bytes,
    }))
}
