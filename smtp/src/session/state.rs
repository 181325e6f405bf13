//! The explicit state of one SMTP session: what the peer has established (greeting, TLS,
//! identity) and where the current transaction stands.

use mssd_certs::CertInfo;
use mssd_core::Address;
use mssd_store::MailboxId;

/// Where incoming bytes go next.
pub enum Input {
    /// Command lines.
    Command,
    /// DATA content until `<CRLF>.<CRLF>`.
    Data(smtp_proto::request::receiver::DataReceiver),
    /// A BDAT chunk of known size.
    Bdat(smtp_proto::request::receiver::BdatReceiver),
    /// Content being thrown away after a refusal (oversize); the reply is given at its end.
    Discard {
        receiver: smtp_proto::request::receiver::DummyDataReceiver,
        last: bool,
    },
    /// The rest of a command line that was too long, up to its LF.
    SkipLine,
    /// An AUTH exchange waiting for the client's next response line.
    Auth,
}

/// The TLS facts of the session, fixed at the handshake.
#[derive(Clone)]
pub struct TlsFacts {
    pub version: String,
    pub cipher: String,
    /// The client certificate chain as sent, leaf first (empty: none).
    pub peer_chain: Vec<rustls::pki_types::CertificateDer<'static>>,
}

/// What we concluded about the peer's certificate, once per TLS session.
#[derive(Clone)]
pub enum PeerVerdict {
    NoCertificate,
    Refused(String),
    Valid(Box<CertInfo>),
}

/// A recipient accepted by RCPT.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub address: Address,
    /// Local mailbox, or None for a remote recipient (submission to another operator).
    pub mailbox: Option<MailboxId>,
    /// RFC 3461 NOTIFY flags as smtp-proto encodes them, and ORCPT.
    pub notify: u64,
    pub orcpt: Option<String>,
}

/// The mail transaction in progress (RFC 5321 §3.3).
#[derive(Debug, Default)]
pub struct Transaction {
    /// Our identifier of the message: in the Received field, the reply and the audit trail.
    pub id: String,
    /// None means the null reverse-path `<>`.
    pub sender: Option<Address>,
    pub recipients: Vec<Recipient>,
    pub mail_flags: u64,
    pub env_id: Option<String>,
    pub declared_size: usize,
    /// The message as received so far, starting with our Received field; once a large
    /// message spools, its header block and the bytes not yet written out.
    pub body: Vec<u8>,
    /// The body written out so far, for a large message.
    pub spool: Option<Spool>,
    /// Set at the end of a spooled message: `body` is its header block only, the rest is in
    /// a blob file.
    pub body_in_file: bool,
    /// Held while a spooled message that may carry documents is in memory whole again.
    pub whole_in_memory: Option<tokio::sync::SemaphorePermit<'static>>,
    /// Set when a BDAT sequence has failed: later chunks are discarded with this reply.
    pub failed: Option<crate::reply::Reply>,
    /// Recipients the national directory does not know (policy "warn"): the sender gets a
    /// notice once the message is accepted.
    pub unknown_to_directory: Vec<Address>,
}

impl Transaction {
    /// Bytes received so far, in memory and spooled.
    pub fn size(&self) -> usize {
        let spooled = self.spool.as_ref().map_or(0, |s| s.len());
        self.body
            .len()
            .saturating_add(usize::try_from(spooled).unwrap_or(usize::MAX))
    }

    pub fn new(
        sender: Option<Address>,
        mail_flags: u64,
        env_id: Option<String>,
        declared_size: usize,
    ) -> Self {
        Transaction {
            sender,
            mail_flags,
            env_id,
            declared_size,
            ..Default::default()
        }
    }
}

/// The spooled part of the message in progress.
#[derive(Debug)]
pub struct Spool {
    pub(super) writer: mssd_store::BlobWriter,
    /// Where the body starts in `Transaction::body` (the head kept in memory).
    pub(super) head_len: usize,
    /// Whether some chunk may carry an IHE_XDM.zip (see `mssd_cda::attachment::may_carry_xdm`):
    /// such a message is read back whole at its end for the document checks.
    pub may_carry_xdm: bool,
    /// The end of the last chunk, for the marker scan of the next.
    pub(super) overlap: Vec<u8>,
}

impl Spool {
    pub fn len(&self) -> u64 {
        self.writer.len()
    }
}
