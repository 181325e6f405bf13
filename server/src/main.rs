//! mssd: secure health messaging server for MSSanté operators.

mod annuaire_cmd;
mod annuaire_setup;
mod audit;
mod audit_cmd;
mod auth_setup;
mod backup_cmd;
mod bootstrap;
mod citizen_cmd;
mod citizen_idp;
mod cli;
mod config;
mod dns_cmd;
mod doctor;
mod documents_cmd;
mod error;
mod exclusive_jobs;
mod file_modes;
mod http_setup;
mod jwks_doctor;
mod jwks_setup;
mod jwks_source;
mod logging;
mod mailbox_cmd;
mod manpage;
mod metrics;
mod metrics_cda;
mod metrics_tls;
mod notifier;
mod pki_cmd;
mod queue_cmd;
mod report_cmd;
mod serve;
mod smtp_setup;
mod store_cmd;
mod store_open;
mod tls_setup;
mod trust_list_cmd;
mod trust_setup;

use std::process::ExitCode;

/// mimalloc: the liste blanche, the directory and message buffers are many small and large
/// allocations; it roughly halves their cost against the system allocator (see the
/// trust-list benchmark) and returns memory to the system promptly. Built without transparent
/// huge pages (`no_thp`, see the workspace Cargo.toml): they made small heaps look 2 MiB at a
/// time larger.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;

use cli::{Cli, Command, LogFormatArg, PkiCommand};
use config::{Config, LogFormat};
use error::Result;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Every command may create the database, keys or exports: owner-only from the start.
    file_modes::owner_only_umask();
    match run(cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("mssd: error: {e}");
            ExitCode::from(2)
        }
    }
}

/// Ok(false) means "ran, and the answer is no" (doctor found a failure).
fn run(cli: Cli) -> Result<bool> {
    if let Command::Pki(PkiCommand::Init {
        dir,
        domain,
        force,
        ca,
    }) = &cli.command
    {
        logging::init(log_format(&cli, LogFormat::Text), "warn");
        pki_cmd::init(dir, domain, *force, ca.as_deref())?;
        return Ok(true);
    }
    if let Command::Manpage { dir } = &cli.command {
        let written = manpage::write_all(dir)?;
        println!("mssd: wrote {written} man pages to {}", dir.display());
        return Ok(true);
    }
    let text_format = log_format(&cli, LogFormat::Text);
    if let Command::Store(command) = cli.command {
        // No configuration needed: both ends are on the command line.
        logging::init(text_format, "warn");
        return runtime()?.block_on(store_cmd::run(command));
    }
    let config = Config::load(cli.config.as_deref())?;
    let level = if matches!(cli.command, Command::Serve) {
        config.log.level.clone()
    } else {
        "warn".into()
    };
    logging::init(log_format(&cli, config.log.format), &level);
    runtime()?.block_on(async move {
        match cli.command {
            Command::Serve => serve::run(config).await.map(|_| true),
            Command::Mailbox(command) => mailbox_cmd::run(&config, command).await.map(|_| true),
            Command::Annuaire(command) => annuaire_cmd::run(&config, command).await,
            Command::Queue(command) => queue_cmd::run(&config, command).await.map(|_| true),
            Command::TrustList(command) => trust_list_cmd::run(&config, command).await,
            Command::Doctor => doctor::run(&config).await,
            Command::Documents(command) => documents_cmd::run(&config, command).await.map(|_| true),
            Command::Citizen(command) => citizen_cmd::run(&config, command).await.map(|_| true),
            Command::Report(command) => report_cmd::run(&config, command).await.map(|_| true),
            Command::Audit(command) => audit_cmd::run(&config, command).await,
            Command::Backup(args) => backup_cmd::backup(&config, args).await,
            Command::Dns(cli::DnsCommand::Records) => {
                let setup = serve::client_setup(&config, &config.listeners);
                print!("{}", dns_cmd::records(&setup, config.listeners.https));
                Ok(true)
            }
            Command::Restore { src } => backup_cmd::restore(&config, &src).await.map(|_| true),
            Command::Pki(_) | Command::Manpage { .. } | Command::Store(_) => Ok(true),
        }
    })
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| error::Error::Io {
            what: "starting the async runtime".into(),
            source,
        })
}

fn log_format(cli: &Cli, configured: LogFormat) -> LogFormat {
    match cli.log_format {
        Some(LogFormatArg::Json) => LogFormat::Json,
        Some(LogFormatArg::Text) => LogFormat::Text,
        None => configured,
    }
}
