//! APPEND (with UIDPLUS APPENDUID). A literal over `max_literal_size` is refused before any
//! byte is sent; a large one was streamed to a blob file as it arrived and is here a spool
//! token (see `append_spool`), a small one arrives whole. The store makes the message durable
//! before the OK.

use std::num::NonZeroU32;

use imap_next::imap_types::core::Tag;
use imap_next::imap_types::datetime::DateTime;
use imap_next::imap_types::extensions::binary::LiteralOrLiteral8;
use imap_next::imap_types::flag::Flag;
use imap_next::imap_types::mailbox::Mailbox as ImapMailbox;
use imap_next::imap_types::response::Code;

use mssd_store::MessageBytes;

use super::Session;
use super::responses::{code, no, ok};

impl Session<'_> {
    pub(crate) async fn append(
        &mut self,
        tag: &Tag<'static>,
        mailbox: ImapMailbox<'static>,
        flags: Vec<Flag<'static>>,
        date: Option<DateTime>,
        message: LiteralOrLiteral8<'static>,
    ) {
        let bytes = match message {
            LiteralOrLiteral8::Literal(literal) => literal.into_inner().into_owned(),
            LiteralOrLiteral8::Literal8(literal) => literal.data.into_owned(),
        };
        // Taken first, so that a refused APPEND drops its file.
        let spooled = self.wire.take_spooled(&bytes);
        let Some(folder) = self.writable_destination(tag, &mailbox).await else {
            return;
        };
        let message: MessageBytes = match spooled {
            None if bytes.is_empty() => {
                self.send_status(no(tag, None, "empty message"));
                return;
            }
            None => bytes.into(),
            Some(spooled) => match tokio::task::spawn_blocking(move || spooled.finish()).await {
                Ok(Ok(message)) => message,
                failed => {
                    let error = match failed {
                        Ok(Err(e)) => e,
                        Err(e) => e.to_string(),
                        Ok(Ok(_)) => String::new(),
                    };
                    tracing::error!(peer = %self.peer, %error, "imap: storing an APPEND body failed");
                    self.send_status(no(
                        tag,
                        Some(code("UNAVAILABLE")),
                        "temporary failure, try again",
                    ));
                    return;
                }
            },
        };
        let internal_date = date.map_or_else(|| super::now_ms() / 1000, |d| d.as_ref().timestamp());
        let flags: Vec<String> = flags.iter().map(|f| f.to_string()).collect();
        match self
            .ctx
            .store
            .append(folder, message, flags, internal_date)
            .await
        {
            Ok(delivered) => {
                let code = match (
                    NonZeroU32::new(self.uid_validity_of(folder).await),
                    NonZeroU32::new(delivered.uid),
                ) {
                    (Some(uid_validity), Some(uid)) => Some(Code::AppendUid { uid_validity, uid }),
                    _ => None,
                };
                self.send_status(ok(tag, code, "APPEND completed"));
            }
            Err(e) => self.store_failed(tag, &e),
        }
    }

    async fn uid_validity_of(&self, folder: mssd_store::FolderId) -> u32 {
        match self.ctx.store.folder(folder).await {
            Ok(Some(folder)) => folder.uid_validity,
            _ => 0,
        }
    }
}
