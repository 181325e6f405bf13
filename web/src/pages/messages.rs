//! The inbox (and other folders), one message, its sandboxed HTML body, its attachments,
//! reply and trash.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Redirect};
use axum::{Extension, Form};
use serde::Deserialize;

use super::layout::document;
use super::{CsrfForm, PageResult, SignedIn};
use crate::mailbox::sanitize::escape;
use crate::mailbox::{self, view};
use crate::security::Peer;
use crate::state::WebState;

const PER_PAGE: usize = 25;

#[derive(Deserialize)]
pub struct InboxQuery {
    dossier: Option<i64>,
    page: Option<usize>,
}

pub async fn inbox(
    State(state): State<Arc<WebState>>,
    signed_in: SignedIn,
    Query(q): Query<InboxQuery>,
) -> PageResult {
    let user = &signed_in.0.user;
    let folders = mailbox::folders(&state, user).await?;
    let folder_id = match q.dossier {
        Some(id) => id,
        None => mailbox::inbox(&state, user).await?.id.0,
    };
    let cached = mailbox::page(&state, user, folder_id, q.page.unwrap_or(1), PER_PAGE).await?;
    let page = &cached.page;
    let mut body = String::new();
    body.push_str(&format!(
        "<h1>{}</h1>",
        escape(&folder_title(&page.folder.name))
    ));
    body.push_str(r#"<nav aria-label="Dossiers" class="pager"><ul class="folders">"#);
    for f in &folders {
        let current = if f.id == folder_id {
            r#" aria-current="page""#
        } else {
            ""
        };
        body.push_str(&format!(
            r#"<li><a href="/boite?dossier={}"{current}>{} ({} non lus)</a></li>"#,
            f.id,
            escape(&folder_title(&f.name)),
            f.unseen
        ));
    }
    body.push_str("</ul></nav>");
    if page.messages.is_empty() {
        body.push_str(r#"<p class="notice">Aucun message.</p>"#);
    } else {
        body.push_str(&format!(
            r#"<p class="meta">{} message(s), du plus récent au plus ancien.</p><ul class="messages">"#,
            page.total
        ));
        for m in &page.messages {
            body.push_str(&format!(
                r#"<li class="{}"><a href="/message/{}/{}"><span class="subject">{}{}</span><span class="meta">{} — {}</span></a></li>"#,
                if m.seen { "read" } else { "unread" },
                folder_id,
                m.uid,
                if m.seen { "" } else { r#"<span class="sr">Non lu : </span>"# },
                escape(&m.subject),
                escape(&m.from),
                escape(&display_date(&m.date)),
            ));
        }
        body.push_str("</ul>");
    }
    let pages = page.total.div_ceil(PER_PAGE).max(1);
    if pages > 1 {
        body.push_str(r#"<nav class="pager" aria-label="Pages">"#);
        if page.page > 1 {
            body.push_str(&format!(
                r#"<a href="/boite?dossier={folder_id}&amp;page={}">Plus récents</a>"#,
                page.page - 1
            ));
        }
        body.push_str(&format!("<span>Page {} sur {pages}</span>", page.page));
        if page.page < pages {
            body.push_str(&format!(
                r#"<a href="/boite?dossier={folder_id}&amp;page={}">Plus anciens</a>"#,
                page.page + 1
            ));
        }
        body.push_str("</nav>");
    }
    Ok(Html(document(
        &folder_title(&page.folder.name),
        Some(&signed_in.reader()),
        &body,
    ))
    .into_response())
}

fn folder_title(name: &str) -> String {
    match name {
        n if n.eq_ignore_ascii_case("INBOX") => "Boîte de réception".into(),
        "Sent" => "Messages envoyés".into(),
        "Trash" => "Corbeille".into(),
        "Drafts" => "Brouillons".into(),
        "Junk" => "Indésirables".into(),
        "Archive" => "Archives".into(),
        other => other.to_string(),
    }
}

/// `2026-12-04T08:30:00+01:00` → `04/12/2026 08:30`.
fn display_date(rfc3339: &str) -> String {
    let (date, rest) = rfc3339.split_once('T').unwrap_or((rfc3339, ""));
    let mut parts = date.split('-');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(y), Some(m), Some(d)) => format!("{d}/{m}/{y} {}", rest.get(..5).unwrap_or("")),
        _ => rfc3339.to_string(),
    }
}

pub async fn show(
    State(state): State<Arc<WebState>>,
    signed_in: SignedIn,
    Path((folder, uid)): Path<(i64, u32)>,
) -> PageResult {
    let user = &signed_in.0.user;
    let (meta, bytes) = mailbox::message(&state, user, folder, uid).await?;
    let m = view::view(folder, &meta, &bytes, false);
    if !m.seen {
        mailbox::mark_read(&state, user, folder, uid).await?;
    }
    let csrf = escape(&signed_in.0.csrf);
    let mut body = format!("<h1>{}</h1><dl class=\"headers\">", escape(&m.subject));
    for (label, values) in [("De", &m.from), ("À", &m.to), ("Copie", &m.cc)] {
        if !values.is_empty() {
            body.push_str(&format!(
                "<dt>{label}</dt><dd>{}</dd>",
                escape(&values.join(", "))
            ));
        }
    }
    body.push_str(&format!(
        "<dt>Date</dt><dd>{}</dd></dl>",
        escape(&display_date(&m.date))
    ));
    if m.html.is_some() {
        body.push_str(&format!(
            r#"<iframe class="body-html" sandbox title="Contenu du message" src="/message/{folder}/{uid}/corps"></iframe>"#
        ));
        if m.remote_images_blocked {
            body.push_str(&format!(
                r#"<p class="notice">Des images distantes ont été bloquées. <a href="/message/{folder}/{uid}/corps?images=1" target="_blank" rel="noopener noreferrer">Afficher le message avec ses images</a></p>"#
            ));
        }
    } else {
        body.push_str(&format!(
            r#"<div class="body-text">{}</div>"#,
            escape(&m.text)
        ));
    }
    if !m.attachments.is_empty() {
        body.push_str("<h2>Pièces jointes</h2><ul>");
        for a in &m.attachments {
            let extra = if a.health_documents {
                r#" — <a href="/documents">voir les documents de santé</a>"#
            } else {
                ""
            };
            body.push_str(&format!(
                r#"<li><a href="/message/{folder}/{uid}/piece/{}">{}</a> ({}, {} octets){extra}</li>"#,
                a.index,
                escape(&a.name),
                escape(&a.content_type),
                a.size
            ));
        }
        body.push_str("</ul>");
    }
    body.push_str(&format!(
        r#"<div class="actions"><form method="post" action="/message/{folder}/{uid}/corbeille"><input type="hidden" name="csrf" value="{csrf}"><button type="submit" class="secondary" id="trash">Mettre à la corbeille</button></form></div>
<h2 id="reply-title">Répondre</h2>
<form method="post" action="/message/{folder}/{uid}/repondre" class="card" aria-labelledby="reply-title">
<input type="hidden" name="csrf" value="{csrf}">
<label for="texte">Votre réponse</label>
<textarea id="texte" name="texte" required maxlength="65536"></textarea>
<p><button type="submit" id="send-reply">Envoyer la réponse</button></p>
</form>"#
    ));
    Ok(Html(document(&m.subject, Some(&signed_in.reader()), &body)).into_response())
}

#[derive(Deserialize)]
pub struct BodyQuery {
    images: Option<String>,
}

/// The sanitised HTML body, alone, for the sandboxed frame: its own CSP forbids scripts,
/// styles and every remote resource (images only when asked).
pub async fn body(
    State(state): State<Arc<WebState>>,
    signed_in: SignedIn,
    Path((folder, uid)): Path<(i64, u32)>,
    Query(q): Query<BodyQuery>,
) -> PageResult {
    let images = q.images.is_some_and(|v| v == "1" || v == "true");
    let (meta, bytes) = mailbox::message(&state, &signed_in.0.user, folder, uid).await?;
    let m = view::view(folder, &meta, &bytes, images);
    let html = format!(
        "<!DOCTYPE html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>Contenu du message</title></head><body>{}</body></html>",
        m.html
            .unwrap_or_else(|| format!("<pre>{}</pre>", escape(&m.text)))
    );
    let csp = if images {
        "default-src 'none'; img-src data: https:; sandbox; frame-ancestors 'self'"
    } else {
        "default-src 'none'; img-src data:; sandbox; frame-ancestors 'self'"
    };
    let mut response = Html(html).into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    Ok(response)
}

pub async fn attachment(
    State(state): State<Arc<WebState>>,
    signed_in: SignedIn,
    Path((folder, uid, index)): Path<(i64, u32, usize)>,
) -> PageResult {
    let bytes = mailbox::message_bytes(&state, &signed_in.0.user, folder, uid).await?;
    let (name, content_type, data) =
        view::attachment(&bytes, index).ok_or(crate::error::Error::NotFound("pièce jointe"))?;
    Ok(crate::api::download(&name, &content_type, data, false))
}

#[derive(Deserialize)]
pub struct ReplyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    texte: String,
}

pub async fn reply(
    State(state): State<Arc<WebState>>,
    Extension(peer): Extension<Peer>,
    signed_in: SignedIn,
    Path((folder, uid)): Path<(i64, u32)>,
    Form(form): Form<ReplyForm>,
) -> PageResult {
    signed_in.check_csrf(&form.csrf)?;
    let outcome =
        mailbox::reply::reply(&state, &signed_in.0.user, peer.0, folder, uid, &form.texte).await;
    let body = match outcome {
        Ok(sent) => format!(
            r#"<h1>Réponse envoyée</h1><p class="success" role="status">Votre réponse a été envoyée à {}.</p><p><a href="/message/{folder}/{uid}">Retour au message</a> · <a href="/boite">Boîte de réception</a></p>"#,
            escape(&sent.to)
        ),
        Err(e @ crate::error::Error::Refused { .. })
        | Err(e @ crate::error::Error::BadRequest(_)) => {
            let api = e.to_api();
            format!(
                r#"<h1>Réponse non envoyée</h1><p class="error" role="alert">{}</p><p><a href="/message/{folder}/{uid}">Retour au message</a></p>"#,
                escape(&api.message)
            )
        }
        Err(e) => return Err(e.into()),
    };
    Ok(Html(document("Réponse", Some(&signed_in.reader()), &body)).into_response())
}

pub async fn trash(
    State(state): State<Arc<WebState>>,
    signed_in: SignedIn,
    Path((folder, uid)): Path<(i64, u32)>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    signed_in.check_csrf(&form.csrf)?;
    mailbox::trash(&state, &signed_in.0.user, folder, uid).await?;
    Ok(Redirect::to(&format!("/boite?dossier={folder}")).into_response())
}
