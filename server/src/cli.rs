//! The command line: the public contract of README.md, "Command line".

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "mssd",
    version,
    about = "Secure health messaging server for MSSanté operators"
)]
pub struct Cli {
    /// Configuration file (TOML), or the MSSD_CONFIG environment variable. Without either,
    /// the embedded default: data in ./mssd-data, a test PKI, listeners on 127.0.0.1.
    #[arg(
        long,
        short = 'c',
        global = true,
        value_name = "FILE",
        env = "MSSD_CONFIG"
    )]
    pub config: Option<PathBuf>,

    /// Log format on standard error; overrides [log] format.
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormatArg>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormatArg {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server until SIGTERM or SIGINT.
    Serve,
    /// Test PKI imitating IGC-Santé.
    #[command(subcommand)]
    Pki(PkiCommand),
    /// Hosted mailboxes.
    #[command(subcommand)]
    Mailbox(MailboxCommand),
    /// The outbound queue.
    #[command(subcommand)]
    Queue(QueueCommand),
    /// The national directory (Annuaire Santé) and the operator's LDAP.
    #[command(subcommand)]
    Annuaire(crate::annuaire_cmd::AnnuaireCommand),
    /// The MSSanté liste blanche kept in the store.
    #[command(subcommand)]
    TrustList(TrustListCommand),
    /// Check configuration, certificates and store; exit status 1 when anything fails.
    Doctor,
    /// Health documents indexed in a mailbox (CDA in IHE_XDM.zip).
    #[command(subcommand)]
    Documents(DocumentsCommand),
    /// Reports for the ANS.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Citizen mailboxes (`<INS>@<citizen domain>`).
    #[command(subcommand)]
    Citizen(CitizenCommand),
    /// The audit trail: search it, prove it unaltered.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// A consistent copy of the store taken while the server runs (`backup DEST`), or the
    /// check of one (`backup verify DIR`).
    Backup(BackupArgs),
    /// The store's database: move it from SQLite to PostgreSQL.
    #[command(subcommand)]
    Store(StoreCommand),
    /// DNS records the operator publishes.
    #[command(subcommand)]
    Dns(DnsCommand),
    /// Restores a verified backup into the configured data directory, which must hold no
    /// store (stop mssd and move its data away first).
    Restore {
        /// The backup directory.
        src: PathBuf,
    },
    /// Writes the man pages (mssd.8 and one per subcommand) into DIR: the Debian package
    /// build runs it (packaging/build-deb.sh). Hidden: not an operator's command.
    #[command(hide = true)]
    Manpage {
        /// The directory for the pages (created if missing).
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Copies an SQLite store (stopped server, or the database of a backup) into an empty
    /// PostgreSQL database: every table, ids, UIDs, UIDVALIDITY, modseqs and the audit chain
    /// as they are; then compares both sides table by table. Run it again after an
    /// interruption: it resumes. Exit status 1 when verification finds a difference.
    Migrate(StoreMigrateArgs),
}

#[derive(Debug, clap::Args)]
pub struct StoreMigrateArgs {
    /// The SQLite database (`<data_dir>/mssd.sqlite3`); its blob files are read from the `blobs`
    /// directory beside it.
    #[arg(long, value_name = "FILE")]
    pub from: PathBuf,
    /// The PostgreSQL database, e.g. postgresql://mssd@db.example/mssd?sslmode=require.
    #[arg(long, value_name = "URL")]
    pub to: String,
    /// A file whose first line is the password (rather than in the URL, seen by `ps`).
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// PEM certificate(s) of the CA of the PostgreSQL server, for TLS (needed with
    /// sslmode=require).
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Subcommand)]
pub enum DnsCommand {
    /// The zone lines for each domain: MX, the SRV records of RFC 6186 and RFC 8314 for
    /// submission and IMAP, and the names clients autoconfigure from.
    Records,
}

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BackupArgs {
    #[command(subcommand)]
    pub command: Option<BackupCommand>,
    /// A new (or empty) directory for the backup.
    pub dest: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Checks every file against the manifest, the database's integrity and its blob files;
    /// exit status 1 when the backup is damaged.
    Verify { dir: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Records oldest first, one per line (tab-separated, or JSON with --json); INS in
    /// citizen addresses redacted. When a page is full, standard error says how to get the
    /// next one (--after ID).
    Search {
        /// From this date or instant (YYYY-MM-DD, UTC midnight, or RFC 3339), inclusive.
        #[arg(long)]
        since: Option<String>,
        /// Until this date or instant, exclusive.
        #[arg(long)]
        until: Option<String>,
        /// Records whose actor or subject is this mailbox address.
        #[arg(long)]
        mailbox: Option<String>,
        /// A kind (`imap.login`) or a family (`imap` for every `imap.*`).
        #[arg(long)]
        kind: Option<String>,
        /// Records after this id (the next page).
        #[arg(long, default_value_t = 0)]
        after: i64,
        /// Records per page (1 to 10000).
        #[arg(long, default_value_t = 100)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Recomputes the hash chain over every record; exit status 1 when a record was changed
    /// or removed. Prints the last link: kept elsewhere, it shows later that none was cut off.
    Verify,
}

#[derive(Debug, Subcommand)]
pub enum CitizenCommand {
    /// Registers a citizen: creates `<INS>@<citizen domain>` (unchanged when known).
    Add { ins: String },
    /// Registers the citizens of FILE (one INS per line, `#` comments); all or nothing.
    Import { file: PathBuf },
    /// Closes a citizen's mailbox: content kept, new mail refused (550 5.2.1), audited.
    Close { ins: String },
    /// Prints a 10-minute token of the TEST identity provider for the citizen, alone on one
    /// line (refused unless `[citizen.oidc] test_provider = true`).
    Token { ins: String },
}

#[derive(Debug, Subcommand)]
pub enum DocumentsCommand {
    /// One line per document version: `<status> <id> <setId> v<version> <code> <title>`.
    List {
        mailbox: String,
        /// Every version (superseded, withdrawn, refused requests), not only current ones.
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
    },
    /// One document (every row of that id); the patient's INS is redacted.
    Show {
        mailbox: String,
        /// The document id as `root^extension` (as `list` prints it).
        id: String,
        /// Show the INS in clear (written to the audit trail).
        #[arg(long)]
        reveal: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Messages sent and received, XDM documents and the share with a qualified INS, per
    /// mailbox and structure.
    Indicators {
        #[arg(long, value_name = "YYYY-MM")]
        month: String,
        #[arg(long)]
        csv: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum QueueCommand {
    /// Queued messages with their recipients, attempts and last error.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Make a queued message (or all) due now.
    Retry {
        id: Option<i64>,
        #[arg(long, conflicts_with = "id")]
        all: bool,
    },
    /// Drop a queued message without bouncing it.
    Remove {
        id: i64,
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TrustListCommand {
    /// Fetch a list (file or https URL, checked with our IGC-Santé anchors), verify it with
    /// the refresh rules, and store it for the server.
    Load {
        #[arg(value_name = "FILE|URL")]
        source: String,
        /// Accept a list that is older or removes many domains (never one that fails to parse
        /// or to match its checksum).
        #[arg(long)]
        force: bool,
    },
    /// Summary of the stored list, or one domain's operator certificate DNs.
    Show { domain: Option<String> },
    /// Whether DN may deliver for DOMAIN: exit status 0 yes, 1 no.
    Check {
        domain: String,
        #[arg(long, value_name = "DN")]
        dn: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum PkiCommand {
    /// Write a test hierarchy: root, ORGANISATIONS intermediate, server, applicative and
    /// personal certificates, and a CRL.
    Init {
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// The mail domain the server certificate is for (CN=mail.<domain>).
        #[arg(long, value_name = "DOMAIN")]
        domain: String,
        /// Overwrite existing files.
        #[arg(long)]
        force: bool,
        /// Issue from the test CA of an earlier `pki init` in DIR (one hierarchy shared by
        /// several test operators, as IGC-Santé is) instead of creating a new one.
        #[arg(long, value_name = "DIR")]
        ca: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum MailboxCommand {
    /// Create a mailbox (with its INBOX, Sent, Drafts, Trash and Archive folders).
    Add(AddArgs),
    /// List mailboxes.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Refuse new mail and logins for a mailbox, keeping its content.
    Suspend { address: String },
    /// Undo a suspension.
    Resume { address: String },
    /// Grant rights on a mailbox (an ORG mailbox, typically) to another of our mailboxes:
    /// read and write (shared IMAP folders) and send (MAIL FROM as that mailbox).
    Grant {
        mailbox: String,
        #[arg(long, value_name = "ADDRESS")]
        to: String,
        /// Comma-separated: read, write, send.
        #[arg(long, default_value = "read")]
        rights: String,
    },
    /// Withdraw the rights granted on MAILBOX to ADDRESS.
    Revoke {
        mailbox: String,
        #[arg(long, value_name = "ADDRESS")]
        to: String,
    },
    /// Delete a mailbox and its messages.
    Remove {
        address: String,
        /// Confirm the deletion.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Args)]
pub struct AddArgs {
    pub address: String,
    /// PER, ORG, APP, CAB or CITIZEN.
    #[arg(long)]
    pub kind: String,
    /// Display name.
    #[arg(long)]
    pub name: Option<String>,
    /// Owner's idNat_PS (8+RPPS or 0+ADELI); required for PER.
    #[arg(long, value_name = "IDNAT_PS")]
    pub owner: Option<String>,
    /// Bind a client certificate (PEM) to the mailbox for certificate authentication.
    #[arg(long, value_name = "PEM")]
    pub certificate: Option<PathBuf>,
    /// Bind a certificate subject DN (RFC 4514 text) instead of a file.
    #[arg(long, value_name = "DN")]
    pub certificate_dn: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long, conflicts_with = "generate_password")]
    pub password_stdin: bool,
    /// Generate a password and print it once.
    #[arg(long)]
    pub generate_password: bool,
    /// Storage quota, e.g. 500M or 2G.
    #[arg(long)]
    pub quota: Option<String>,
}
