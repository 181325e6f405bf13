//! First start on the embedded default: a test PKI, a reference copy of the configuration
//! and a demo mailbox, all under the data dir, and a summary of how to connect.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use mssd_core::{Address, MailboxKind};
use mssd_store::{Mailbox, NewMailbox};

use crate::config::{Config, EMBEDDED_TOML};
use crate::error::{Error, Result};
use crate::{mailbox_cmd, store_open};

const DEMO_LOCAL_PART: &str = "demo";
const PFI_LOCAL_PART: &str = "pfi";
/// A published test INS (ref §4), the patient of the sample document.
pub const TEST_CITIZEN_INS: &str = "279035121518989";

pub async fn first_start(config: &Config) -> Result<()> {
    store_open::create_private_dir(&config.data_dir)?;
    let dir = config.data_dir.display();
    if !config.tls.certificate.exists() {
        let pki = mssd_certs::init_pki(&config.pki_dir(), config.primary_domain(), false)?;
        println!(
            "mssd: first start: created a TEST PKI imitating IGC-Santé in {dir}/pki (not for production)"
        );
        println!("  server certificate  {}", pki.server_subject);
        println!("  applicative cert    {}", pki.app_subject);
        println!("  personal (CPS-like) {}", pki.personal_subject);
    }
    let reference = config.data_dir.join("mssd.toml");
    if !reference.exists() {
        // Inside the data dir, data_dir is "." relative to the file itself.
        let text = EMBEDDED_TOML.replace("data_dir = \"./mssd-data\"", "data_dir = \".\"");
        write_file(&reference, text.as_bytes(), 0o644)?;
        println!(
            "mssd: wrote the configuration in use to {dir}/mssd.toml (copy it to make your own)"
        );
    }

    let store = store_open::open(config).await?;
    if store.list_mailboxes().await?.is_empty() {
        let demo = DemoMailbox {
            local_part: DEMO_LOCAL_PART,
            kind: MailboxKind::Per,
            display_name: "Demo professional",
            certificate: "personal.pem",
            secret: "demo-password.txt",
        };
        let demo = demo.create(config, store.as_ref()).await?;
        println!("  it also accepts the personal test certificate {dir}/pki/personal.pem");
        // The integration platform's mailbox that `[[cda.routes]]` copies XDM messages to.
        let pfi = DemoMailbox {
            local_part: PFI_LOCAL_PART,
            kind: MailboxKind::App,
            display_name: "Plateforme d'intégration (demo)",
            certificate: "app.pem",
            secret: "pfi-password.txt",
        };
        let pfi = pfi.create(config, store.as_ref()).await?;
        println!("  it also accepts the applicative test certificate {dir}/pki/app.pem");
        let citizen = test_citizen(config, store.as_ref()).await?;
        deliver_sample(config, store.as_ref(), &demo, &pfi, citizen.as_ref()).await?;
    }
    Ok(())
}

/// A mailbox the first start creates, with a password and a test certificate.
struct DemoMailbox {
    local_part: &'static str,
    kind: MailboxKind,
    display_name: &'static str,
    /// File of the test PKI whose certificate authenticates as the mailbox.
    certificate: &'static str,
    /// File (in the data dir) receiving "address password".
    secret: &'static str,
}

impl DemoMailbox {
    async fn create(&self, config: &Config, store: &dyn mssd_store::Store) -> Result<Mailbox> {
        let dir = config.data_dir.display();
        let certs = mssd_certs::load_certs(&config.pki_dir().join(self.certificate))?;
        let info = certs
            .first()
            .map(mssd_certs::CertInfo::parse)
            .transpose()?
            .ok_or_else(|| {
                Error::Usage(format!(
                    "{dir}/pki/{} holds no certificate",
                    self.certificate
                ))
            })?;
        let address = Address::parse(&format!("{}@{}", self.local_part, config.primary_domain()))?;
        let password = mailbox_cmd::generate_password();
        let new = NewMailbox {
            address: address.clone(),
            kind: self.kind,
            display_name: Some(self.display_name.into()),
            owner_id_nat: info.id_nat_ps.as_ref().map(|id| id.as_str().to_string()),
            password_hash: Some(mssd_core::hash_password(&password)?),
            certificate_dn: Some(info.subject.canonical()),
            quota_bytes: None,
        };
        let mailbox = mailbox_cmd::create(store, new, "mssd:first-start").await?;
        let secret = config.data_dir.join(self.secret);
        write_file(&secret, format!("{address} {password}\n").as_bytes(), 0o600)?;
        println!(
            "mssd: created demo mailbox {address} ({}); its password is in {}",
            self.kind.as_str().to_uppercase(),
            secret.display()
        );
        Ok(mailbox)
    }
}

/// A sample XDM message (a synthetic lab report for the test INS) in the demo mailbox and,
/// as the embedded route would copy it, the integration platform's, indexed like any
/// delivery: `mssd documents list demo@…` shows it.
async fn deliver_sample(
    config: &Config,
    store: &dyn mssd_store::Store,
    demo: &Mailbox,
    pfi: &Mailbox,
    citizen: Option<&Mailbox>,
) -> Result<()> {
    let from = format!("laboratoire@{}", config.primary_domain());
    let message = mssd_cda::samples::sample_message(&from, &demo.address.to_string());
    let package = mssd_cda::read_message(&message, &config.cda.limits)
        .map_err(|e| Error::Usage(format!("the sample document: {e}")))?
        .ok_or_else(|| Error::Usage("the sample message carries no XDM archive".into()))?;
    store
        .deliver(mssd_store::Delivery {
            recipients: [Some(demo.id), Some(pfi.id), citizen.map(|c| c.id)]
                .into_iter()
                .flatten()
                .collect(),
            documents: mssd_smtp::session::documents::index_rows(&package),
            message: message.into(),
            internal_date: time::OffsetDateTime::now_utc().unix_timestamp(),
        })
        .await?;
    println!(
        "mssd: delivered a sample XDM message (1 CDA document) to {} and {}{}; `mssd documents list {}` shows it",
        demo.address,
        pfi.address,
        if citizen.is_some() {
            " and the test citizen"
        } else {
            ""
        },
        demo.address
    );
    Ok(())
}

/// The sample's patient as a test citizen, when citizen mailboxes are hosted.
async fn test_citizen(config: &Config, store: &dyn mssd_store::Store) -> Result<Option<Mailbox>> {
    let Some(domain) = &config.citizen_domain else {
        return Ok(None);
    };
    let address = Address::parse(&format!("{TEST_CITIZEN_INS}@{domain}"))?;
    let new = NewMailbox::citizen(address.clone(), Some("Test citizen (INS de test)".into()));
    let mailbox = mailbox_cmd::create(store, new, "mssd:first-start").await?;
    println!("mssd: created the test citizen mailbox {address} (the published test INS)");
    if matches!(
        config.citizen_oidc,
        Some(crate::config::CitizenOidcConfig::TestProvider)
    ) {
        println!(
            "  log in over IMAP with XOAUTH2 and the token `mssd citizen token {TEST_CITIZEN_INS}` prints (TEST identity provider)"
        );
    }
    Ok(Some(mailbox))
}

/// Creates `path` (never overwrites) with `mode`, fsynced.
pub(crate) fn write_file(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let io = |source| Error::Io {
        what: format!("writing {}", path.display()),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(io)?;
    file.write_all(bytes)
        .and_then(|_| file.sync_all())
        .map_err(io)
}
