//! `mssd report indicators --month YYYY-MM [--csv]`: the usage indicators the ANS asks of
//! operators, per mailbox and per structure (the directory's structure of the mailbox, or
//! its domain when the directory does not know it).

use std::collections::BTreeMap;

use mssd_core::Address;
use mssd_store::{Direction, IndicatorRow, Store};

use crate::cli::ReportCommand;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::store_open;

/// One line of the report.
#[derive(Debug, Default, Clone)]
struct Line {
    sent: u64,
    received: u64,
    xdm_messages: u64,
    documents: u64,
    qualified_ins: u64,
}

impl Line {
    fn add(&mut self, row: &IndicatorRow) {
        match row.direction {
            Direction::Sent => self.sent += row.messages,
            Direction::Received => self.received += row.messages,
        }
        self.xdm_messages += row.xdm_messages;
        self.documents += row.documents;
        self.qualified_ins += row.qualified_ins;
    }

    fn merge(&mut self, other: &Line) {
        self.sent += other.sent;
        self.received += other.received;
        self.xdm_messages += other.xdm_messages;
        self.documents += other.documents;
        self.qualified_ins += other.qualified_ins;
    }

    fn share(&self) -> String {
        if self.documents == 0 {
            return "-".into();
        }
        format!(
            "{:.1}",
            self.qualified_ins as f64 * 100.0 / self.documents as f64
        )
    }
}

pub async fn run(config: &Config, command: ReportCommand) -> Result<()> {
    let ReportCommand::Indicators { month, csv } = command;
    if !valid_month(&month) {
        return Err(Error::Usage(format!(
            "--month {month:?}: give a month as YYYY-MM, e.g. 2026-12"
        )));
    }
    let store = store_open::open(config).await?;
    let rows = store.usage_indicators(&month).await?;
    let mut mailboxes: BTreeMap<(String, String), Line> = BTreeMap::new();
    // Citizen mailboxes are named by an INS: counted together, never listed one by one.
    let mut citizens = Line::default();
    for row in &rows {
        if is_citizen(store.as_ref(), &row.mailbox).await {
            citizens.add(row);
            continue;
        }
        let structure = structure_of(store.as_ref(), &row.mailbox).await;
        mailboxes
            .entry((structure, row.mailbox.clone()))
            .or_default()
            .add(row);
    }
    let mut structures: BTreeMap<String, Line> = BTreeMap::new();
    let mut professionals = Line::default();
    for ((structure, _), line) in &mailboxes {
        structures.entry(structure.clone()).or_default().merge(line);
        professionals.merge(line);
    }
    let header = "month,scope,structure,mailbox,messages_sent,messages_received,xdm_messages,documents,documents_qualified_ins,qualified_ins_percent";
    let row = |scope: &str, structure: &str, mailbox: &str, l: &Line| {
        format!(
            "{month},{scope},{structure},{mailbox},{},{},{},{},{},{}",
            l.sent,
            l.received,
            l.xdm_messages,
            l.documents,
            l.qualified_ins,
            l.share()
        )
    };
    if csv {
        println!("{header}");
        for ((structure, mailbox), l) in &mailboxes {
            println!("{}", row("mailbox", structure, mailbox, l));
        }
        for (structure, l) in &structures {
            println!("{}", row("structure", structure, "", l));
        }
        println!("{}", row("kind", "professional", "", &professionals));
        println!("{}", row("kind", "citizen", "", &citizens));
        return Ok(());
    }
    println!("Usage indicators for {month}");
    if mailboxes.is_empty() && citizens.sent + citizens.received == 0 {
        println!("  no message was counted this month");
        return Ok(());
    }
    println!(
        "{:<36} {:>6} {:>8} {:>5} {:>9} {:>11}",
        "mailbox", "sent", "received", "xdm", "documents", "INS qualif."
    );
    for ((_, mailbox), l) in &mailboxes {
        println!(
            "{:<36} {:>6} {:>8} {:>5} {:>9} {:>10}%",
            mailbox,
            l.sent,
            l.received,
            l.xdm_messages,
            l.documents,
            l.share()
        );
    }
    println!();
    println!(
        "{:<36} {:>6} {:>8} {:>5} {:>9} {:>11}",
        "structure", "sent", "received", "xdm", "documents", "INS qualif."
    );
    for (structure, l) in &structures {
        println!(
            "{:<36} {:>6} {:>8} {:>5} {:>9} {:>10}%",
            structure,
            l.sent,
            l.received,
            l.xdm_messages,
            l.documents,
            l.share()
        );
    }
    println!();
    for (kind, l) in [
        ("professional mailboxes", &professionals),
        ("citizen mailboxes", &citizens),
    ] {
        println!(
            "{:<36} {:>6} {:>8} {:>5} {:>9} {:>10}%",
            kind,
            l.sent,
            l.received,
            l.xdm_messages,
            l.documents,
            l.share()
        );
    }
    Ok(())
}

fn valid_month(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 7
        && b[4] == b'-'
        && b[..4].iter().chain(&b[5..]).all(u8::is_ascii_digit)
        && matches!(text[5..].parse::<u8>(), Ok(1..=12))
}

async fn structure_of(store: &dyn Store, mailbox: &str) -> String {
    let Ok(address) = Address::parse(mailbox) else {
        return "-".into();
    };
    match store.directory_mailbox(&address).await {
        Ok(Some(m)) => m
            .structure_id
            .unwrap_or_else(|| address.domain().to_string()),
        _ => address.domain().to_string(),
    }
}

async fn is_citizen(store: &dyn Store, mailbox: &str) -> bool {
    let Ok(address) = Address::parse(mailbox) else {
        return false;
    };
    matches!(store.mailbox(&address).await, Ok(Some(m)) if m.kind == mssd_core::MailboxKind::Citizen)
}
