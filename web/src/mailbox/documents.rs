//! The health documents of a mailbox: the index the store keeps (current versions, and on
//! request superseded and withdrawn ones), and one document opened from the message that
//! carried it: the embedded PDF of an N1 document, the CDA XML and a rendering of the
//! sections of an N3 one.

use axum::body::Bytes;
use mssd_auth::Authenticated;
use mssd_store::IndexedDocument;
use serde::Serialize;
use utoipa::ToSchema;

pub use super::model::Content;
use super::sanitize::{self, escape};
use crate::error::{Error, Result};
use crate::state::WebState;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DocumentView {
    /// The document's number in this mailbox (not the CDA identifier).
    pub id: i64,
    pub title: Option<String>,
    /// LOINC code of the document type (`X-MSS-CODECDA`).
    pub code: String,
    /// CDA `effectiveTime`, as written (`YYYYMMDDhhmmss±zzzz`).
    pub effective_time: Option<String>,
    /// The author's structure (`root^extension`).
    pub author_org: Option<String>,
    /// `current`, `superseded` or `withdrawn`.
    pub status: String,
    /// ANS error condition: 900 not the latest version, 901 author not allowed.
    pub anomaly: Option<u32>,
    /// The UID of the message that carried it.
    pub message_uid: u32,
    /// The folder of that message (the document follows it when it is moved).
    pub message_folder: i64,
    /// RFC 3339.
    pub received: String,
}

impl From<&IndexedDocument> for DocumentView {
    fn from(d: &IndexedDocument) -> Self {
        DocumentView {
            id: d.row,
            title: d.title.clone(),
            code: d.code.clone(),
            effective_time: d.effective_time.clone(),
            author_org: d.author_org.clone(),
            status: d.status.as_str().to_string(),
            anomaly: d.anomaly,
            message_uid: d.message_uid,
            message_folder: d.folder.0,
            received: super::summaries::rfc3339(d.indexed_at),
        }
    }
}

pub async fn list(state: &WebState, user: &Authenticated, all: bool) -> Result<Vec<DocumentView>> {
    let mut docs = state.store.documents(user.mailbox.id, all).await?;
    docs.sort_by(|a, b| b.indexed_at.cmp(&a.indexed_at).then(b.row.cmp(&a.row)));
    Ok(docs.iter().map(DocumentView::from).collect())
}

pub struct Opened {
    pub view: DocumentView,
    /// The CDA R2 XML as it came.
    pub xml: Bytes,
    pub content: Content,
}

pub async fn open(state: &WebState, user: &Authenticated, id: i64) -> Result<Opened> {
    let indexed = state
        .store
        .documents(user.mailbox.id, true)
        .await?
        .into_iter()
        .find(|d| d.row == id)
        .ok_or(Error::NotFound("document"))?;
    // The message is read every time: a document whose message was deleted is not shown,
    // even from the cache. The parse (unzip, CDA, PDF) is what the cache saves.
    let message = state
        .store
        .message_body(indexed.folder, indexed.message_uid)
        .await?
        .ok_or(Error::NotFound("message porteur du document"))?;
    let key = (user.mailbox.id.0, id, indexed.folder.0, indexed.message_uid);
    if let Some((xml, content)) = state.documents.get(key) {
        return Ok(Opened {
            view: DocumentView::from(&indexed),
            xml,
            content,
        });
    }
    let limits = state.settings.cda_limits;
    let cda_id = indexed.cda_id.clone();
    let (xml, content) = tokio::task::spawn_blocking(move || read(&message, &limits, &cda_id))
        .await
        .map_err(|e| Error::Internal(format!("document task: {e}")))??;
    let xml = Bytes::from(xml);
    state.documents.put(key, xml.clone(), content.clone());
    Ok(Opened {
        view: DocumentView::from(&indexed),
        xml,
        content,
    })
}

fn read(message: &[u8], limits: &mssd_cda::XdmLimits, cda_id: &str) -> Result<(Vec<u8>, Content)> {
    let unreadable = |e: mssd_cda::CdaError| Error::Document(e.kind().to_string());
    let zip = mssd_cda::attachment::find(message)
        .map_err(unreadable)?
        .ok_or_else(|| Error::Document("no archive".into()))?;
    let (document, xml) = mssd_cda::package::read_document(&zip, limits, cda_id)
        .map_err(unreadable)?
        .ok_or(Error::NotFound("document"))?;
    let content = match &document.cda.body {
        mssd_cda::Body::Structured { sections } => Content::Structured {
            html: super::narrative::render(&xml, limits.max_xml_nodes)
                .unwrap_or_else(|| render_sections(sections)),
        },
        mssd_cda::Body::Unstructured { .. } => {
            let max = limits.max_entry_size as usize;
            match mssd_cda::embedded::content(&document.entry.uri, &xml, max).map_err(unreadable)? {
                Some(e) => Content::Embedded {
                    media_type: e.media_type,
                    bytes: Bytes::from(e.bytes),
                },
                None => Content::Structured {
                    html: String::new(),
                },
            }
        }
    };
    Ok((xml, content))
}

/// The fallback when the narrative cannot be rendered: the section titles and collapsed
/// text the arrival check kept, escaped, then
/// through the allow-list sanitiser (nothing executable or remote can come out).
pub fn render_sections(sections: &[mssd_cda::Section]) -> String {
    let mut html = String::new();
    for section in sections {
        html.push_str("<div>");
        if let Some(title) = &section.title {
            html.push_str(&format!("<h3>{}</h3>", escape(title)));
        }
        if !section.text.is_empty() {
            html.push_str(&format!("<p>{}</p>", escape(&section.text)));
        }
        html.push_str("</div>");
    }
    sanitize::message_html(&html, false).html
}
