//! An SMTP client session over any byte stream (RFC 5321): greeting, EHLO, STARTTLS which
//! is REQUIRED (MSSanté: no message leaves in clear), the TLS handshake presenting our
//! certificate and validating the peer's chain, EHLO again. Mail transactions are in
//! `transaction.rs`; the liste blanche check of the peer's DN is the caller's (`delivery`).

use std::sync::Arc;

use mssd_certs::DistinguishedName;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsConnector;

use super::capabilities::Capabilities;
use super::config::Timeouts;
use super::outcome::Failure;
use super::wire::{Stream, Wire};
use crate::reply::Reply;

/// What every client session needs.
#[derive(Clone)]
pub struct ClientSettings {
    /// Our host name, sent with EHLO.
    pub ehlo_name: String,
    /// `mssd_certs::client_config`: our certificate, peers validated against our anchors.
    pub tls: Arc<rustls::ClientConfig>,
    pub timeouts: Timeouts,
    /// BDAT when the peer offers CHUNKING.
    pub use_chunking: bool,
    /// Validates the server's chain again when TLS resumed a session: rustls does not call
    /// the certificate verifier then, and the peer may have been revoked (a newer CRL, an
    /// OCSP answer) or its CA removed (a reload) since the session began.
    pub validator: Arc<mssd_certs::ChainValidator>,
}

/// The TLS facts of the session, fixed at the handshake.
#[derive(Debug, Clone)]
pub struct PeerTls {
    pub version: String,
    pub cipher: String,
    /// The peer's chain as sent, leaf first.
    pub chain: Vec<CertificateDer<'static>>,
    /// The leaf certificate's subject.
    pub subject: DistinguishedName,
}

/// A session ready for mail transactions: TLS established, EHLO done.
pub struct SmtpClient<S> {
    pub(crate) wire: Wire<S>,
    pub(crate) caps: Capabilities,
    pub(crate) settings: ClientSettings,
    /// `host:port`, as reports name it.
    pub(crate) peer: String,
    tls: PeerTls,
    /// Transactions started on this connection; the next one is preceded by RSET.
    pub(crate) transactions: usize,
}

impl<S: AsyncRead + AsyncWrite + Unpin> SmtpClient<S> {
    /// Opens the session on `stream` to `server_name` (the host we meant to reach: TLS SNI;
    /// its certificate names are not checked, its DN is, by the caller). Every failure is
    /// attributed to `peer`.
    pub async fn start(
        stream: S,
        server_name: &str,
        peer: &str,
        settings: &ClientSettings,
    ) -> Result<SmtpClient<S>, Failure> {
        let mut wire = Wire::new(stream);
        match Self::handshake(&mut wire, server_name, settings).await {
            Ok((caps, tls)) => Ok(SmtpClient {
                wire,
                caps,
                settings: settings.clone(),
                peer: peer.to_string(),
                tls,
                transactions: 0,
            }),
            Err(failure) => {
                if !matches!(wire.stream, Stream::Closed) {
                    let _ = wire
                        .command(
                            "QUIT",
                            settings
                                .timeouts
                                .command
                                .min(std::time::Duration::from_secs(10)),
                        )
                        .await;
                    wire.shutdown().await;
                }
                Err(failure.at(peer))
            }
        }
    }

    async fn handshake(
        wire: &mut Wire<S>,
        server_name: &str,
        settings: &ClientSettings,
    ) -> Result<(Capabilities, PeerTls), Failure> {
        let t = settings.timeouts;
        let greeting = wire.reply(t.greeting).await?;
        if greeting.code != 220 {
            return Err(Failure::from_reply("the connection", &greeting));
        }
        let caps = ehlo(wire, &settings.ehlo_name, t.command).await?;
        if !caps.starttls {
            return Err(Failure::temporary(
                (4, 7, 10),
                "peer does not offer STARTTLS",
            ));
        }
        let reply = wire.command("STARTTLS", t.command).await?;
        if reply.code != 220 {
            let refused = Failure::from_reply("STARTTLS", &reply);
            return Err(Failure {
                permanent: false,
                status: (4, 7, 10),
                ..refused
            });
        }
        let dropped = wire.discard_pending();
        if dropped > 0 {
            tracing::warn!(
                server_name,
                dropped,
                "smtp client: discarded bytes the peer sent ahead of the TLS handshake"
            );
        }
        let Stream::Plain(tcp) = std::mem::replace(&mut wire.stream, Stream::Closed) else {
            return Err(Failure::temporary((4, 7, 5), "TLS is already active"));
        };
        let name = ServerName::try_from(server_name.to_string()).map_err(|e| {
            Failure::temporary(
                (4, 7, 5),
                format!("{server_name:?} is not a TLS server name: {e}"),
            )
        })?;
        let connect = TlsConnector::from(settings.tls.clone()).connect(name, tcp);
        let tls = match tokio::time::timeout(t.command, connect).await {
            Ok(Ok(tls)) => tls,
            Ok(Err(e)) => {
                return Err(Failure::temporary(
                    (4, 7, 5),
                    format!("TLS handshake failed: {e}"),
                ));
            }
            Err(_) => return Err(Failure::temporary((4, 7, 5), "TLS handshake timed out")),
        };
        let facts = {
            let (_, conn) = tls.get_ref();
            let chain: Vec<CertificateDer<'static>> = conn
                .peer_certificates()
                .map(|c| c.iter().map(|d| d.clone().into_owned()).collect())
                .unwrap_or_default();
            let info = mssd_certs::peer_info(&chain).ok_or_else(|| {
                Failure::temporary((4, 7, 5), "the peer presented no readable certificate")
            })?;
            if conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed)
                && let Some((leaf, intermediates)) = chain.split_first()
                && let Err(e) = settings.validator.validate(
                    leaf,
                    intermediates,
                    mssd_certs::Usage::ServerAuth,
                    rustls::pki_types::UnixTime::now(),
                )
            {
                return Err(Failure::temporary(
                    (4, 7, 5),
                    format!("the peer's certificate no longer validates: {e}"),
                ));
            }
            PeerTls {
                version: conn
                    .protocol_version()
                    .map(|v| format!("{v:?}"))
                    .unwrap_or_default(),
                cipher: conn
                    .negotiated_cipher_suite()
                    .map(|s| format!("{:?}", s.suite()))
                    .unwrap_or_default(),
                chain,
                subject: info.subject,
            }
        };
        wire.stream = Stream::Tls(Box::new(tls));
        // RFC 3207 §4.2: what the peer said before TLS is forgotten.
        let caps = ehlo(wire, &settings.ehlo_name, t.command).await?;
        Ok((caps, facts))
    }

    pub fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    pub fn peer_tls(&self) -> &PeerTls {
        &self.tls
    }

    /// The subject DN of the peer's certificate, to check against the liste blanche.
    pub fn peer_dn(&self) -> &DistinguishedName {
        &self.tls.subject
    }

    /// `host:port` of the peer.
    pub fn peer(&self) -> &str {
        &self.peer
    }

    /// RSET (RFC 5321 §4.1.1.5): a clean state before the next transaction.
    pub async fn reset(&mut self) -> Result<(), Failure> {
        let reply = self
            .wire
            .command("RSET", self.settings.timeouts.command)
            .await
            .map_err(|f| f.at(&self.peer))?;
        if reply.code != 250 {
            return Err(Failure::from_reply("RSET", &reply).at(&self.peer));
        }
        Ok(())
    }

    /// QUIT and close; the peer's answer does not matter any more.
    pub async fn quit(mut self) {
        let _ = self
            .wire
            .command("QUIT", self.settings.timeouts.command)
            .await;
        self.wire.shutdown().await;
    }
}

async fn ehlo<S: AsyncRead + AsyncWrite + Unpin>(
    wire: &mut Wire<S>,
    name: &str,
    timeout: std::time::Duration,
) -> Result<Capabilities, Failure> {
    let reply: Reply = wire.command(&format!("EHLO {name}"), timeout).await?;
    if reply.code != 250 {
        return Err(Failure::from_reply("EHLO", &reply));
    }
    Ok(Capabilities::from_ehlo(&reply))
}
