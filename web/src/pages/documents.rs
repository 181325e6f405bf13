//! The health documents: the list (current ones; all on request), one document (its PDF
//! in a frame for N1, its sections for N3), its file.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse};
use serde::Deserialize;

use super::layout::document;
use super::{PageResult, SignedIn};
use crate::mailbox::documents::{self, Content, DocumentView};
use crate::mailbox::sanitize::escape;
use crate::state::WebState;

#[derive(Deserialize)]
pub struct ListQuery {
    tous: Option<String>,
}

fn status_label(status: &str) -> &'static str {
    match status {
        "current" => "en vigueur",
        "superseded" => "remplacé par une version plus récente",
        "withdrawn" => "retiré par son auteur",
        _ => "inconnu",
    }
}

fn title(d: &DocumentView) -> String {
    d.title
        .clone()
        .unwrap_or_else(|| format!("Document (code {})", d.code))
}

/// `20261204083000+0100` → `04/12/2026`.
fn effective_date(d: &DocumentView) -> String {
    match d.effective_time.as_deref() {
        Some(t) if t.len() >= 8 && t[..8].bytes().all(|b| b.is_ascii_digit()) => {
            format!("{}/{}/{}", &t[6..8], &t[4..6], &t[..4])
        }
        _ => "date inconnue".into(),
    }
}

pub async fn list(
    State(state): State<Arc<WebState>>,
    signed_in: SignedIn,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let all = q.tous.is_some();
    let docs = documents::list(&state, &signed_in.0.user, all).await?;
    let mut body = String::from("<h1>Documents de santé</h1>");
    body.push_str(if all {
        r#"<p><a href="/documents">N'afficher que les documents en vigueur</a></p>"#
    } else {
        r#"<p><a href="/documents?tous=1">Afficher aussi les versions remplacées et les documents retirés</a></p>"#
    });
    if docs.is_empty() {
        body.push_str(r#"<p class="notice">Aucun document.</p>"#);
    } else {
        body.push_str(r#"<ul class="documents">"#);
        for d in &docs {
            body.push_str(&format!(
                r#"<li><a href="/document/{}"><span class="subject">{}</span><span class="meta">{} — <span class="status">{}</span></span></a></li>"#,
                d.id,
                escape(&title(d)),
                escape(&effective_date(d)),
                status_label(&d.status),
            ));
        }
        body.push_str("</ul>");
    }
    Ok(Html(document(
        "Documents de santé",
        Some(&signed_in.reader()),
        &body,
    ))
    .into_response())
}

pub async fn show(
    State(state): State<Arc<WebState>>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
) -> PageResult {
    let opened = documents::open(&state, &signed_in.0.user, id).await?;
    let d = &opened.view;
    let mut body = format!(
        r#"<h1>{}</h1><dl class="headers"><dt>Date</dt><dd>{}</dd><dt>Statut</dt><dd>{}</dd><dt>Type (LOINC)</dt><dd>{}</dd></dl>"#,
        escape(&title(d)),
        escape(&effective_date(d)),
        status_label(&d.status),
        escape(&d.code),
    );
    match &opened.content {
        Content::Embedded { media_type, .. } if media_type == "application/pdf" => {
            body.push_str(&format!(
                r#"<iframe class="pdf" title="Document PDF : {}" src="/document/{id}/fichier"></iframe><p><a href="/document/{id}/fichier" id="open-pdf">Ouvrir le PDF</a></p>"#,
                escape(&title(d))
            ));
        }
        Content::Embedded { media_type, .. } => {
            body.push_str(&format!(
                r#"<p><a href="/document/{id}/fichier">Télécharger le document ({})</a></p>"#,
                escape(media_type)
            ));
        }
        Content::Structured { html } => {
            body.push_str(&format!(
                r#"<div class="narrative card" id="narrative">{html}</div><p><a href="/document/{id}/fichier">Télécharger le document CDA (XML)</a></p>"#
            ));
        }
    }
    body.push_str(r#"<p><a href="/documents">Retour aux documents</a></p>"#);
    Ok(Html(document(&title(d), Some(&signed_in.reader()), &body)).into_response())
}

pub async fn file(
    State(state): State<Arc<WebState>>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
) -> PageResult {
    let opened = documents::open(&state, &signed_in.0.user, id).await?;
    Ok(crate::api::document_file(opened))
}
