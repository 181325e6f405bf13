//! IDLE (RFC 2177): new mail, flag changes and expunges are pushed as soon as the store's
//! change feed publishes them (SMTP delivery included), until the client sends DONE.

use imap_next::imap_types::core::Tag;
use imap_next::imap_types::response::CommandContinuationRequest;
use imap_next::server::Event;
use tokio::sync::watch;

use super::responses::{bad, bye, ok, text, untagged_bad};
use super::wire::WireError;
use super::{Flow, Session};

/// What woke the IDLE loop.
enum Wake {
    Input(Result<(), WireError>),
    Changed,
    TimedOut,
    Shutdown,
}

impl Session<'_> {
    pub(crate) async fn idle(
        &mut self,
        tag: Tag<'static>,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Flow {
        if self.user.is_none() {
            let status = bad(&tag, None, "IDLE needs authentication first");
            if let Err(status) = self.wire.proto.idle_reject(status) {
                self.send_status(status);
            }
            return Flow::Continue;
        }
        let request = CommandContinuationRequest::Basic(
            match imap_next::imap_types::response::CommandContinuationRequestBasic::new(
                None,
                text("idling"),
            ) {
                Ok(basic) => basic,
                Err(_) => return Flow::Close,
            },
        );
        if self.wire.proto.idle_accept(request).is_err() {
            return Flow::Close;
        }
        self.sync_selected(true).await;
        if self.wire.drain().await.is_err() {
            return Flow::Close;
        }
        let timeout = self.ctx.config.idle_timeout;
        self.wire.release_buffers();
        'idle: loop {
            // Everything already received first (each call also writes what is queued).
            loop {
                match self.wire.decoded().await {
                    Ok(Some(Ok(Event::IdleDoneReceived))) => break 'idle,
                    Ok(Some(Ok(_))) => {}
                    Ok(Some(Err(_))) => self.send_status(untagged_bad("expected DONE")),
                    Ok(None) => break,
                    Err(_) => return Flow::Close,
                }
            }
            let wire = &mut self.wire;
            let watch = self.selected.as_mut().map(|s| &mut s.watch);
            let wake = tokio::select! {
                read = wire.read_once() => Wake::Input(read),
                changed = async {
                    match watch {
                        Some(watch) => watch.changed().await.is_ok(),
                        None => std::future::pending().await,
                    }
                } => if changed { Wake::Changed } else { Wake::Input(Ok(())) },
                _ = tokio::time::sleep(timeout) => Wake::TimedOut,
                _ = shutdown.changed() => Wake::Shutdown,
            };
            match wake {
                Wake::Input(Ok(())) => {}
                Wake::Input(Err(_)) => return Flow::Close,
                Wake::Changed => self.sync_selected(true).await,
                Wake::TimedOut => {
                    self.send_status(bye(None, "autologout: idle for too long"));
                    return Flow::Close;
                }
                Wake::Shutdown => {
                    self.send_status(bye(None, "server shutting down"));
                    return Flow::Close;
                }
            }
        }
        self.send_status(ok(&tag, None, "IDLE terminated"));
        Flow::Continue
    }
}
