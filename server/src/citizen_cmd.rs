//! `mssd citizen add|import|close`: citizens known to a citizen operator (provisioning
//! "registered"). Messages name the INS redacted; the audit trail keeps the mailbox.

use mssd_core::{Address, Ins};
use mssd_store::{AuditEvent, MailboxStatus, NewMailbox, Store};

use crate::audit;
use crate::cli::CitizenCommand;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::{mailbox_cmd, store_open};

/// Lines a citizen import may hold (a file of INS, one per line).
const MAX_IMPORT_LINES: usize = 10_000_000;

pub async fn run(config: &Config, command: CitizenCommand) -> Result<()> {
    let domain = config.citizen_domain.clone().ok_or_else(|| {
        Error::Usage("citizen mailboxes need [citizen] domain in the configuration".into())
    })?;
    let store = store_open::open(config).await?;
    let store = store.as_ref();
    let actor = audit::operator_actor();
    match command {
        CitizenCommand::Add { ins } => {
            let ins = Ins::parse(&ins)?;
            let created = add(store, &domain, &ins, &actor).await?;
            println!(
                "{}: {}",
                address(&ins, &domain)?.redacted(),
                if created {
                    "created"
                } else {
                    "unchanged (already known)"
                }
            );
            Ok(())
        }
        CitizenCommand::Import { file } => {
            let text = std::fs::read_to_string(&file).map_err(|e| Error::Io {
                what: format!("reading {}", file.display()),
                source: e,
            })?;
            let (valid, errors) = parse_import(&text);
            if !errors.is_empty() {
                for e in &errors {
                    eprintln!("{e}");
                }
                return Err(Error::Usage(format!(
                    "{}: {} bad line(s), nothing imported; fix them and run again",
                    file.display(),
                    errors.len()
                )));
            }
            let (mut created, mut unchanged) = (0, 0);
            for ins in &valid {
                if add(store, &domain, ins, &actor).await? {
                    created += 1;
                } else {
                    unchanged += 1;
                }
            }
            println!(
                "{}: {created} created, {unchanged} unchanged",
                file.display()
            );
            Ok(())
        }
        CitizenCommand::Token { ins } => {
            if !matches!(
                config.citizen_oidc,
                Some(crate::config::CitizenOidcConfig::TestProvider)
            ) {
                return Err(Error::Usage(
                    "test tokens need [citizen.oidc] test_provider = true (never in production)"
                        .into(),
                ));
            }
            let ins = Ins::parse(&ins)?;
            let key = crate::citizen_idp::key(&config.data_dir)?;
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            println!("{}", crate::citizen_idp::token(&key, ins.as_str(), now)?);
            Ok(())
        }
        CitizenCommand::Close { ins } => {
            let ins = Ins::parse(&ins)?;
            let address = address(&ins, &domain)?;
            if store.mailbox(&address).await?.is_none() {
                return Err(Error::Usage(format!(
                    "no citizen mailbox {}",
                    address.redacted()
                )));
            }
            store
                .set_mailbox_status(&address, MailboxStatus::Suspended)
                .await?;
            store
                .audit(AuditEvent {
                    at: audit::now_ms(),
                    kind: "citizen.close".into(),
                    actor,
                    subject: address.to_string(),
                    outcome: "closed".into(),
                    detail: serde_json::json!({ "content": "kept" }),
                })
                .await?;
            println!(
                "{}: closed (content kept; new mail refused with 550 5.2.1)",
                address.redacted()
            );
            Ok(())
        }
    }
}

fn address(ins: &Ins, domain: &str) -> Result<Address> {
    Ok(Address::parse(&format!("{}@{domain}", ins.as_str()))?)
}

/// Creates the citizen's mailbox; `false` when it exists already.
async fn add(store: &dyn Store, domain: &str, ins: &Ins, actor: &str) -> Result<bool> {
    let address = address(ins, domain)?;
    if store.mailbox(&address).await?.is_some() {
        return Ok(false);
    }
    let new = NewMailbox::citizen(address, None);
    mailbox_cmd::create(store, new, actor).await?;
    Ok(true)
}

/// The INS of an import file (one per line; blank lines and `#` comments skipped), and the
/// bad lines as `line N: reason` (the INS redacted).
fn parse_import(text: &str) -> (Vec<Ins>, Vec<String>) {
    let mut valid = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate().take(MAX_IMPORT_LINES) {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match Ins::parse(line) {
            Ok(ins) if !valid.contains(&ins) => valid.push(ins),
            Ok(_) => {}
            Err(e) => errors.push(format!("line {}: {e}", i + 1)),
        }
    }
    (valid, errors)
}

#[cfg(test)]
mod tests {
    #[test]
    fn import_lines() {
        let (valid, errors) = super::parse_import(
            "# citizens\n279035121518989\n\n295109912611193\n279035121518989\n12345\n279035121518988\n",
        );
        assert_eq!(valid.len(), 2);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].starts_with("line 6: "), "{errors:?}");
        assert!(
            errors[1].starts_with("line 7: ") && !errors[1].contains("279035121518988"),
            "{errors:?}"
        );
    }
}
