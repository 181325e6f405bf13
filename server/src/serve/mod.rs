//! `mssd serve`: open the store, load TLS, bind every configured listener, run until
//! SIGTERM/SIGINT, then stop accepting, let sessions finish and close the store.

mod limits;
mod listener;
mod protocol;
mod reload;
mod reload_status;
mod state;
mod store_watch;
mod web;

pub use web::client_setup;

use std::net::SocketAddr;
use std::sync::Arc;

use mssd_store::AuditEvent;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::{annuaire_setup, audit, bootstrap, smtp_setup, store_open, tls_setup, trust_setup};
use limits::ConnectionLimits;
use protocol::Protocol;
use state::ServerState;

pub async fn run(config: Config) -> Result<()> {
    // Install the handlers first: a SIGTERM that arrives while we start must still mean a
    // graceful stop, not the default action (death).
    let mut signals = Signals::install()?;
    if config.embedded {
        bootstrap::first_start(&config).await?;
    }
    for fixed in crate::file_modes::tighten(&config)? {
        let (was, now) = (
            format!("{:04o}", fixed.mode),
            format!("{:04o}", fixed.wanted),
        );
        let path = fixed.path.display();
        tracing::warn!(%path, was, now, "file mode tightened: it let others than its owner in");
        println!("mssd: tightened {fixed}: now {:04o}", fixed.wanted);
    }
    let store = store_open::open_for_serving(&config).await?;
    let tls = tls_setup::load(&config.tls)?;
    tracing::info!(subject = %tls.ours.subject, not_after = %tls.ours.not_after, "server certificate loaded");
    let trust = trust_setup::restore(&config, store.clone()).await?;
    let source = trust_setup::source(&config, None)?;
    if let Some(source) = &source {
        trust_setup::first_load(&trust, source, store.as_ref()).await;
    }
    let refresh = source.map(|source| {
        let every = config.trust_list.refresh;
        trust_setup::spawn_refresh_loop(trust.clone(), source, every, store.clone())
    });
    let auth = crate::auth_setup::authenticator(&config, store.clone()).await?;
    let directory = annuaire_setup::load_directory(store.as_ref()).await?;
    let smtp = smtp_setup::context(
        &config,
        store.clone(),
        trust.clone(),
        auth,
        &tls,
        directory.clone(),
    )?;
    let runner = smtp_setup::queue_runner(&config, smtp.clone(), &tls)?;
    let imap = Arc::new(imap_context(&config, &smtp));
    let shared_config = Arc::new(config.clone());
    let ldap = annuaire_setup::spawn_ldap_loop(shared_config.clone(), store.clone());
    let imports =
        annuaire_setup::spawn_import_loop(shared_config, store.clone(), directory.clone());

    let crl = crl_fetcher(&config, &tls);
    let ocsp = ocsp_checker(&config, &tls);
    let state = Arc::new(ServerState {
        limits: ConnectionLimits::new(reload::limit_settings(&config)),
        metrics: Default::default(),
        store,
        config,
        smtp,
        imap,
        trust,
        runner: runner.clone(),
        directory,
        https_tls: web::https_acceptor(&tls)?,
        web: std::sync::OnceLock::new(),
        tls,
        crl,
        ocsp,
        reloads: Default::default(),
    });

    let (stop_tx, stop_rx) = watch::channel(false);
    let mut loops = vec![
        tokio::spawn(runner.run(stop_rx.clone())),
        store_watch::spawn(
            state.trust.clone(),
            state.directory.clone(),
            state.store.clone(),
            stop_rx.clone(),
        ),
    ];
    if let (Some(fetcher), Some(every)) = (&state.crl, state.config.tls.crl_refresh) {
        loops.push(fetcher.clone().spawn(every, stop_rx.clone()));
    }
    if let Some(checker) = &state.ocsp {
        loops.push(checker.clone().spawn(stop_rx.clone()));
    }
    if let Some(notify) = state.config.citizen_notify.clone() {
        let mut anchors = Vec::new();
        for path in &state.config.tls.trust_anchors {
            anchors.extend(mssd_certs::load_certs(path)?);
        }
        let notifier = crate::notifier::Notifier::new(state.store.clone(), notify, &anchors)?;
        loops.push(tokio::spawn(notifier.run(stop_rx.clone())));
    }
    let l = &state.config.listeners;
    let mut bound_listeners = crate::config::Listeners::default();
    let mut listeners = Vec::new();
    for (protocol, addr) in [
        (Protocol::Smtp, l.smtp),
        (Protocol::Submission, l.submission),
        (Protocol::Submissions, l.submissions),
        (Protocol::Imap, l.imap),
        (Protocol::Imaps, l.imaps),
        (Protocol::Http, l.http),
        (Protocol::Https, l.https),
    ] {
        let Some(addr) = addr else { continue };
        if protocol == Protocol::Http && !addr.ip().is_loopback() {
            // Plain HTTP is for a local scraper: anything else belongs on https.
            tracing::warn!(%addr, "the plain http listener is not on loopback: /metrics and /annuaire/search travel in clear");
            println!(
                "mssd: warning: listeners.http {addr} is not loopback; prefer 127.0.0.1 (the web mailbox and API are on https only)"
            );
        }
        let listener = bind(protocol, addr).await?;
        let bound = listener.local_addr().unwrap_or(addr);
        // This line is part of the CLI contract: tests and scripts read the bound address here.
        println!("mssd: {} listening on {bound}", protocol.name());
        tracing::info!(listener = protocol.name(), %bound, "listening");
        *protocol.slot(&mut bound_listeners) = Some(bound);
        listeners.push((protocol, listener));
    }
    // The routers tell mail clients the ports actually bound (a configured port 0 included).
    let routers = web::routers(&state, &bound_listeners)?;
    let _ = state.web.set(routers);
    for (protocol, listener) in listeners {
        loops.push(tokio::spawn(listener::accept_loop(
            protocol,
            listener,
            Arc::clone(&state),
            stop_rx.clone(),
        )));
    }
    if let Some(https) = state.config.listeners.https {
        println!(
            "mssd: web mailbox at https://{https}/ (the certificate names {})",
            state.config.hostname
        );
    }
    match state.config.listeners.http {
        Some(http) => println!("mssd: ready — try: curl http://{http}/healthz"),
        None => println!("mssd: ready"),
    }
    state
        .audit(AuditEvent {
            at: audit::now_ms(),
            kind: "server.start".into(),
            actor: "mssd".into(),
            subject: state.config.hostname.clone(),
            outcome: "ok".into(),
            detail: serde_json::json!({ "version": env!("CARGO_PKG_VERSION"), "config": state.config.origin }),
        })
        .await;

    let signal = loop {
        match signals.next().await {
            Signal::Reload => reload::reload(&state).await,
            Signal::Stop(signal) => break signal,
        }
    };
    tracing::info!(%signal, "shutting down: no new connections, letting sessions finish");
    let _ = stop_tx.send(true);
    for task in [refresh, ldap, imports].into_iter().flatten() {
        task.abort();
    }
    for handle in loops {
        let _ = handle.await;
    }
    state
        .audit(AuditEvent {
            at: audit::now_ms(),
            kind: "server.stop".into(),
            actor: "mssd".into(),
            subject: state.config.hostname.clone(),
            outcome: "ok".into(),
            detail: serde_json::json!({ "signal": signal }),
        })
        .await;
    println!("mssd: stopped ({signal})");
    Ok(())
}

async fn bind(protocol: Protocol, addr: SocketAddr) -> Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|source| Error::Bind {
        name: protocol.name(),
        addr,
        source,
    })
}

struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

enum Signal {
    /// SIGHUP: read the configuration again.
    Reload,
    Stop(&'static str),
}

impl Signals {
    fn install() -> Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        let io = |source| Error::Io {
            what: "installing signal handlers".into(),
            source,
        };
        Ok(Signals {
            term: signal(SignalKind::terminate()).map_err(io)?,
            int: signal(SignalKind::interrupt()).map_err(io)?,
            hup: signal(SignalKind::hangup()).map_err(io)?,
        })
    }

    async fn next(&mut self) -> Signal {
        tokio::select! {
            _ = self.term.recv() => Signal::Stop("SIGTERM"),
            _ = self.int.recv() => Signal::Stop("SIGINT"),
            _ = self.hup.recv() => Signal::Reload,
        }
    }
}

/// The CRL downloader, with the CRLs saved by earlier runs put back in force first. CRLs
/// over https are checked against `[http_client] anchors` (public CAs); plain http, what
/// distribution points name, needs none.
fn crl_fetcher(
    config: &Config,
    tls: &tls_setup::LoadedTls,
) -> Option<Arc<mssd_crl_fetch::CrlFetcher>> {
    let cache = mssd_crl_fetch::CrlCache::new(config.data_dir.join("crls").join("fetched"));
    let restored = cache.restore_into(&tls.validator);
    if restored > 0 {
        tracing::info!(restored, "downloaded CRLs of earlier runs back in force");
    }
    config.tls.crl_refresh?;
    match revocation_client(config) {
        Ok(client) => Some(Arc::new(mssd_crl_fetch::CrlFetcher::new(
            tls.validator.clone(),
            client,
            cache,
        ))),
        Err(e) => {
            tracing::error!(error = %e, "no CRL download: the HTTP client cannot be built");
            None
        }
    }
}

/// The OCSP checker when `tls.ocsp` names a responder.
fn ocsp_checker(
    config: &Config,
    tls: &tls_setup::LoadedTls,
) -> Option<Arc<mssd_ocsp::OcspChecker>> {
    let responder = config.tls.ocsp.clone()?;
    match revocation_client(config) {
        Ok(client) => Some(mssd_ocsp::OcspChecker::new(
            &tls.validator,
            responder,
            client,
            config.tls.ocsp_cache,
        )),
        Err(e) => {
            tracing::error!(error = %e, "no OCSP: the HTTP client cannot be built");
            None
        }
    }
}

/// The client of CRL downloads and OCSP requests: plain http (what certificates name), or
/// https checked against `[http_client] anchors`.
fn revocation_client(config: &Config) -> mssd_crl_fetch::Result<reqwest::Client> {
    let roots = config.http_client.anchors.root_store().unwrap_or_else(|e| {
        tracing::warn!(error = %e, "http_client.anchors unusable: CRLs and OCSP over plain http only");
        rustls::RootCertStore::empty()
    });
    mssd_crl_fetch::crl_client(roots)
}

/// IMAP shares the submission authenticator and the SMTP server TLS (client certificates
/// requested, validated by the session for EXTERNAL).
fn imap_context(config: &Config, smtp: &mssd_smtp::SmtpContext) -> mssd_imap::ImapContext {
    let mut imap = mssd_imap::ImapConfig::new(config.hostname.clone());
    imap.max_literal_size = config.imap.max_literal_size;
    imap.idle_timeout = config.imap.idle_timeout;
    imap.max_connections_per_user = config.imap.max_connections_per_user;
    imap.login_timeout = config.imap.login_timeout;
    imap.max_literals_in_flight = config.imap.max_literals_in_flight;
    mssd_imap::ImapContext::new(
        imap,
        smtp.store.clone(),
        smtp.auth.clone(),
        smtp.tls.clone(),
        smtp.validator.clone(),
    )
}
