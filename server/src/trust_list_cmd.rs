//! `mssd trust-list load|show|check`: the liste blanche kept in the store, for operators.
//! `load` applies the same safety rules as the server's refresh (unless `--force`) and saves
//! the list the server enforces at its next start; `show` and `check` read it offline.

use mssd_certs::DistinguishedName;
use mssd_trust_list::{RefreshOutcome, TrustListHandle};

use crate::cli::TrustListCommand;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::{store_open, trust_setup};

/// Ok(false): `check` answered "not listed".
pub async fn run(config: &Config, command: TrustListCommand) -> Result<bool> {
    let store = store_open::open(config).await?;
    let trust = trust_setup::restore(config, store.clone()).await?;
    match command {
        TrustListCommand::Load { source, force } => {
            let job = crate::exclusive_jobs::TRUST_LIST_REFRESH;
            let held = crate::exclusive_jobs::hold_for_command(store.as_ref(), job).await?;
            let done = load(config, &trust, &source, force).await;
            held.release().await;
            done
        }
        TrustListCommand::Show { domain } => show(&trust, domain.as_deref()),
        TrustListCommand::Check { domain, dn } => check(&trust, &domain, &dn),
    }
}

async fn load(config: &Config, trust: &TrustListHandle, source: &str, force: bool) -> Result<bool> {
    let source = trust_setup::source(config, Some(source))?
        .ok_or_else(|| Error::Usage("give a file or an https URL".into()))?;
    let outcome = if force {
        trust.load_forced(&source).await
    } else {
        trust.refresh(&source).await
    };
    let report = outcome.map_err(|e| {
        Error::Usage(format!(
            "refused, the list in force is unchanged: {e}{}",
            hint(&e)
        ))
    })?;
    match &report.outcome {
        RefreshOutcome::Unchanged => println!(
            "unchanged: the list of {} is already in force",
            report.generated_at
        ),
        RefreshOutcome::Accepted { summary, forced } => {
            println!(
                "accepted{}: list of {}, {} domains, {} entries ({} skipped as invalid)",
                if *forced { " (forced)" } else { "" },
                report.generated_at,
                report.domains,
                report.entries,
                report.skipped_entries
            );
            println!(
                "changes: +{} -{} domains, +{} -{} operator certificate DNs",
                summary.domains_added,
                summary.domains_removed,
                summary.dns_added,
                summary.dns_removed
            );
            for d in report.diff.domains_added.iter().take(20) {
                println!("  + {d}");
            }
            for d in report.diff.domains_removed.iter().take(20) {
                println!("  - {d}");
            }
        }
        RefreshOutcome::Refused { reason, .. } => {
            return Err(Error::Usage(format!("refused: {reason}")));
        }
    }
    if !report.persisted {
        return Err(Error::Usage(
            "the list is valid but could not be saved in the store".into(),
        ));
    }
    println!(
        "sha256 {}; saved: a running server enforces it at its next start",
        report.sha256
    );
    Ok(true)
}

fn hint(e: &mssd_trust_list::Error) -> &'static str {
    match e.kind() {
        "removal_share" | "older" => " (check the source; `--force` accepts it anyway)",
        _ => "",
    }
}

fn show(trust: &TrustListHandle, domain: Option<&str>) -> Result<bool> {
    let list = trust.snapshot();
    let Some(domain) = domain else {
        match list.generated_at() {
            None => println!(
                "no liste blanche stored: no operator is admitted (run `mssd trust-list load`)"
            ),
            Some(at) => println!(
                "liste blanche of {at}: {} domains, {} entries, sha256 {}",
                list.domain_count(),
                list.entry_count(),
                list.sha256().unwrap_or("-")
            ),
        }
        return Ok(true);
    };
    let domain = mssd_core::normalize_domain(domain)?;
    let Some(entry) = list.entry(&domain) else {
        println!("{domain}: not listed");
        return Ok(false);
    };
    println!(
        "{} ({} operator certificate(s))",
        entry.name_as_written(),
        entry.operators().len()
    );
    for op in entry.operators() {
        println!("  DN      {}", op.dn);
        if let Some(d) = &op.description {
            println!("          {d}");
        }
        for (what, v) in [
            ("contact", &op.responsable_contact),
            ("support", &op.support_contact),
        ] {
            if let Some(v) = v {
                println!("  {what:<7} {v}");
            }
        }
        if let Some(at) = op.updated_at {
            println!("  updated {at}");
        }
    }
    Ok(true)
}

fn check(trust: &TrustListHandle, domain: &str, dn: &str) -> Result<bool> {
    let domain = mssd_core::normalize_domain(domain)?;
    let dn = DistinguishedName::parse(dn)?;
    if trust.dn_allowed(&domain, &dn) {
        println!("allowed: {dn} is listed for {domain}");
        Ok(true)
    } else if trust.is_listed(&domain) {
        println!("refused: {domain} is listed, but not with {dn}");
        Ok(false)
    } else {
        println!("refused: {domain} is not on the liste blanche");
        Ok(false)
    }
}
