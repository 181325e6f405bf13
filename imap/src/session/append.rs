//! APPEND (with UIDPLUS APPENDUID). The literal arrives whole (bounded by `max_literal_size`,
//! answered BAD by imap-next before any byte is sent when larger); the store makes it durable
//! before the OK.

use std::num::NonZeroU32;

use imap_next::imap_types::core::Tag;
use imap_next::imap_types::datetime::DateTime;
use imap_next::imap_types::extensions::binary::LiteralOrLiteral8;
use imap_next::imap_types::flag::Flag;
use imap_next::imap_types::mailbox::Mailbox as ImapMailbox;
use imap_next::imap_types::response::Code;

use super::Session;
use super::responses::{no, ok};

impl Session<'_> {
    pub(crate) async fn append(
        &mut self,
        tag: &Tag<'static>,
        mailbox: ImapMailbox<'static>,
        flags: Vec<Flag<'static>>,
        date: Option<DateTime>,
        message: LiteralOrLiteral8<'static>,
    ) {
        let Some(folder) = self.writable_destination(tag, &mailbox).await else {
            return;
        };
        let bytes = match message {
            LiteralOrLiteral8::Literal(literal) => literal.into_inner().into_owned(),
            LiteralOrLiteral8::Literal8(literal) => literal.data.into_owned(),
        };
        if bytes.is_empty() {
            self.send_status(no(tag, None, "empty message"));
            return;
        }
        let internal_date = date.map_or_else(|| super::now_ms() / 1000, |d| d.as_ref().timestamp());
        let flags: Vec<String> = flags.iter().map(|f| f.to_string()).collect();
        match self
            .ctx
            .store
            .append(folder, bytes, flags, internal_date)
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
