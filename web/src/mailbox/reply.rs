//! A reply written on the web, submitted through the very SMTP submission session a mail
//! client would use, over an in-process pipe, as the user the web already authenticated:
//! the citizen rules (only answer, first contact, closed conversations), authorship,
//! documents and relay all apply, and a refusal comes back as the SMTP reply it is. The
//! 250 comes after the store's fsync, as for any client.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mail_builder::MessageBuilder;
use mssd_auth::Authenticated;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::error::{Error, Result};
use crate::state::WebState;

/// Longest reply text accepted.
pub const MAX_TEXT: usize = 64 * 1024;
const DIALOGUE_TIMEOUT: Duration = Duration::from_secs(60);

/// What was sent.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Sent {
    /// Our identifier of the message (the submission's queue id).
    pub id: String,
    pub to: String,
}

pub async fn reply(
    state: &WebState,
    user: &Authenticated,
    peer: SocketAddr,
    folder_id: i64,
    uid: u32,
    text: &str,
) -> Result<Sent> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::BadRequest("Le message est vide.".into()));
    }
    if text.len() > MAX_TEXT {
        return Err(Error::BadRequest(format!(
            "Le message dépasse {} Kio.",
            MAX_TEXT / 1024
        )));
    }
    let original = super::message_bytes(state, user, folder_id, uid).await?;
    let context = super::view::reply_context(&original).ok_or_else(|| {
        Error::BadRequest("Ce message n'a pas d'expéditeur à qui répondre.".into())
    })?;
    let from = user.mailbox.address.to_string();
    let mut builder = MessageBuilder::new()
        .from(from.as_str())
        .to(context.to.as_str())
        .subject(context.subject.as_str())
        .text_body(text.replace('\r', ""));
    if let Some(id) = &context.message_id {
        builder = builder.in_reply_to(id.as_str());
    }
    if !context.references.is_empty() {
        builder = builder.references(context.references.clone());
    }
    let message = builder
        .write_to_vec()
        .map_err(|e| Error::Internal(format!("building the reply: {e}")))?;
    let id = submit(state, user, peer, &from, &context.to, &message).await?;
    Ok(Sent { id, to: context.to })
}

/// One SMTP transaction on an in-process submission session: EHLO, MAIL, RCPT, BDAT LAST,
/// QUIT. Returns the queue id from the 250, or the first refusal.
async fn submit(
    state: &WebState,
    user: &Authenticated,
    peer: SocketAddr,
    from: &str,
    to: &str,
    message: &[u8],
) -> Result<String> {
    let (ours, theirs) = tokio::io::duplex(64 * 1024);
    let ctx: Arc<mssd_smtp::SmtpContext> = state.smtp.clone();
    let user = user.clone();
    let (_stop, stop_rx) = tokio::sync::watch::channel(false);
    let session = tokio::spawn(async move {
        mssd_smtp::Session::internal(&ctx, user, theirs, peer)
            .run(stop_rx)
            .await
    });
    let dialogue = async {
        let (read, mut write) = tokio::io::split(ours);
        let mut read = BufReader::new(read);
        expect(&mut read, 220).await?;
        write
            .write_all(b"EHLO web.mssd.invalid\r\n")
            .await
            .map_err(io)?;
        expect(&mut read, 250).await?;
        write
            .write_all(format!("MAIL FROM:<{from}>\r\n").as_bytes())
            .await
            .map_err(io)?;
        expect(&mut read, 250).await?;
        write
            .write_all(format!("RCPT TO:<{to}>\r\n").as_bytes())
            .await
            .map_err(io)?;
        expect(&mut read, 250).await?;
        write
            .write_all(format!("BDAT {} LAST\r\n", message.len()).as_bytes())
            .await
            .map_err(io)?;
        write.write_all(message).await.map_err(io)?;
        let accepted = expect(&mut read, 250).await?;
        let _ = write.write_all(b"QUIT\r\n").await;
        Ok::<String, Error>(queue_id(&accepted))
    };
    let outcome = tokio::time::timeout(DIALOGUE_TIMEOUT, dialogue)
        .await
        .unwrap_or_else(|_| Err(Error::Internal("submission timed out".into())));
    let _ = tokio::time::timeout(Duration::from_secs(5), session).await;
    outcome
}

fn io(e: std::io::Error) -> Error {
    Error::Internal(format!("submission pipe: {e}"))
}

/// Reads one (possibly multi-line) reply; a code other than `want` is a refusal.
async fn expect<R: tokio::io::AsyncBufRead + Unpin>(read: &mut R, want: u16) -> Result<String> {
    let mut text = String::new();
    loop {
        let mut line = String::new();
        let n = read.read_line(&mut line).await.map_err(io)?;
        if n == 0 || line.len() < 4 {
            return Err(Error::Internal("submission session closed".into()));
        }
        let code: u16 = line[..3]
            .parse()
            .map_err(|_| Error::Internal("submission reply without a code".into()))?;
        let last = line.as_bytes()[3] == b' ';
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(line[4..].trim_end());
        if last {
            if code != want {
                return Err(Error::Refused {
                    code,
                    message: text,
                });
            }
            return Ok(text);
        }
    }
}

/// The queue id in "2.0.0 Ok: queued as <id>" (or the whole text).
fn queue_id(reply: &str) -> String {
    reply
        .split_whitespace()
        .last()
        .unwrap_or(reply)
        .trim_matches(|c: char| c == '<' || c == '>' || c == '(' || c == ')')
        .to_string()
}
