//! ID (RFC 2971), NAMESPACE (RFC 2342), ENABLE (RFC 5161), GETQUOTA/GETQUOTAROOT (RFC 9208),
//! COMPRESS (RFC 4978).

use imap_next::imap_types::core::{AString, IString, NString, QuotedChar, Tag, Vec1};
use imap_next::imap_types::extensions::enable::CapabilityEnable;
use imap_next::imap_types::extensions::namespace::Namespace;
use imap_next::imap_types::extensions::quota::{QuotaGet, Resource};
use imap_next::imap_types::mailbox::Mailbox as ImapMailbox;
use imap_next::imap_types::response::{Code, Data};

use super::names::{self, DELIMITER, SHARED_PREFIX};
use super::responses::{code, no, ok};
use super::{Flow, Session};

impl Session<'_> {
    pub(crate) fn id(&mut self, tag: &Tag<'static>) {
        let pairs = [("name", "mssd"), ("version", env!("CARGO_PKG_VERSION"))];
        let parameters = pairs
            .into_iter()
            .filter_map(|(k, v)| {
                Some((
                    IString::try_from(k).ok()?,
                    NString(Some(IString::try_from(v).ok()?)),
                ))
            })
            .collect();
        self.send_data(Data::Id {
            parameters: Some(parameters),
        });
        self.send_status(ok(tag, None, "ID completed"));
    }

    pub(crate) fn namespace(&mut self, tag: &Tag<'static>) {
        let delimiter = QuotedChar::try_from(DELIMITER).ok();
        let space = |prefix: &str| {
            IString::try_from(prefix.to_owned())
                .ok()
                .map(|p| vec![Namespace::new(p, delimiter)])
                .unwrap_or_default()
        };
        self.send_data(Data::Namespace {
            personal: space(""),
            other: Vec::new(),
            shared: space(&format!("{SHARED_PREFIX}{DELIMITER}")),
        });
        self.send_status(ok(tag, None, "NAMESPACE completed"));
    }

    /// CONDSTORE turned on by a command (RFC 7162 3.1): with a folder selected, the client
    /// learns its HIGHESTMODSEQ at once.
    pub(crate) fn enable_condstore(&mut self) {
        if std::mem::replace(&mut self.enabled.condstore, true) {
            return;
        }
        let highest = self
            .selected
            .as_ref()
            .and_then(|s| std::num::NonZeroU64::new(s.known_modseq));
        if let Some(highest) = highest {
            self.send_status(super::responses::untagged_ok(
                Some(imap_next::imap_types::response::Code::HighestModSeq(
                    highest,
                )),
                "CONDSTORE enabled",
            ));
        }
    }

    pub(crate) fn enable(
        &mut self,
        tag: &Tag<'static>,
        requested: Vec1<CapabilityEnable<'static>>,
    ) {
        let mut enabled = Vec::new();
        for capability in requested.into_inner() {
            let name = capability.to_string().to_ascii_uppercase();
            match name.as_str() {
                "CONDSTORE" if !self.enabled.condstore => {
                    self.enable_condstore();
                    enabled.push(capability);
                }
                "QRESYNC" if !self.enabled.qresync => {
                    self.enabled.qresync = true;
                    self.enable_condstore();
                    enabled.push(capability);
                }
                // RFC 9051: UTF-8 names, ESEARCH for every SEARCH, no \Recent from now on.
                "IMAP4REV2" if !self.enabled.imap4rev2 => {
                    self.enabled.imap4rev2 = true;
                    if let Some(selected) = self.selected.as_mut() {
                        selected.recent.clear();
                    }
                    enabled.push(capability);
                }
                _ => {}
            }
        }
        self.send_data(Data::Enabled {
            capabilities: enabled,
        });
        self.send_status(ok(tag, None, "ENABLE completed"));
    }

    pub(crate) async fn get_quota_root(
        &mut self,
        tag: &Tag<'static>,
        mailbox: ImapMailbox<'static>,
    ) {
        let Some(target) = self.target(tag, &mailbox).await else {
            return;
        };
        let root = quota_root_name(&target);
        let usage = match self.ctx.store.quota(target.owner).await {
            Ok(usage) => usage,
            Err(e) => return self.store_failed(tag, &e),
        };
        let roots: Vec<AString<'static>> = if usage.limit_bytes.is_some() {
            AString::try_from(root.clone()).ok().into_iter().collect()
        } else {
            Vec::new()
        };
        self.send_data(Data::QuotaRoot {
            mailbox: names::to_imap(&target.display, self.utf8_names()),
            roots,
        });
        if let Some(data) = quota_data(&root, usage) {
            self.send_data(data);
        }
        self.send_status(ok(tag, None, "GETQUOTAROOT completed"));
    }

    pub(crate) async fn get_quota(&mut self, tag: &Tag<'static>, root: AString<'static>) {
        let root = String::from_utf8_lossy(root.as_ref()).into_owned();
        // Roots are "" (the user's mailbox) and "Shared/<address>" (a granted mailbox).
        let target = if root.is_empty() {
            Some(self.user_id())
        } else {
            let grants = self.grants().await;
            names::resolve(self.user_id(), &grants, &root)
                .ok()
                .map(|t| t.owner)
        };
        let Some(owner) = target else {
            self.send_status(no(tag, Some(code("NONEXISTENT")), "no such quota root"));
            return;
        };
        match self.ctx.store.quota(owner).await {
            Ok(usage) => match quota_data(&root, usage) {
                Some(data) => {
                    self.send_data(data);
                    self.send_status(ok(tag, None, "GETQUOTA completed"));
                }
                None => {
                    self.send_status(no(tag, Some(code("NONEXISTENT")), "no quota on this root"))
                }
            },
            Err(e) => self.store_failed(tag, &e),
        }
    }
}

fn quota_root_name(target: &names::Target) -> String {
    match &target.shared_from {
        Some(owner) => names::shared_name(owner, "INBOX"),
        None => String::new(),
    }
}

/// STORAGE in units of 1024 octets (RFC 9208 5.1), rounded up.
fn quota_data(root: &str, usage: mssd_store::QuotaUsage) -> Option<Data<'static>> {
    let limit = usage.limit_bytes?;
    let quota = QuotaGet::new(
        Resource::Storage,
        usage.used_bytes.div_ceil(1024),
        limit / 1024,
    );
    Some(Data::Quota {
        root: AString::try_from(root.to_owned()).ok()?,
        quotas: Vec1::from(quota),
    })
}

impl Session<'_> {
    /// COMPRESS DEFLATE (RFC 4978), the only algorithm the parser accepts (others get BAD).
    /// The OK goes out uncompressed, then both directions are.
    pub(crate) async fn compress(&mut self, tag: &Tag<'static>) -> Flow {
        if self.wire.compressing() {
            self.send_status(no(
                tag,
                Some(Code::CompressionActive),
                "DEFLATE is already active",
            ));
            return Flow::Continue;
        }
        self.wire
            .proto
            .enqueue_status(ok(tag, None, "DEFLATE active"));
        match self.wire.start_compression().await {
            Ok(()) => Flow::Continue,
            Err(e) => {
                tracing::debug!(peer = %self.peer, error = ?e, "imap: starting COMPRESS failed");
                Flow::Close
            }
        }
    }
}
