//! The command mix a mail client makes on a folder, run by concurrent clients for a fixed
//! time: SELECT, FETCH 1:* (FLAGS ENVELOPE), UID FETCH of 10 bodies, UID STORE of a flag,
//! SEARCH. Every command's latency is kept, by kind.

use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use mssd_e2e::ImapClient;
use mssd_e2e::imap_client::quoted;

use crate::error::{Error, Result, io};
use crate::imap_messages::SUBJECT_WORDS;
use crate::imap_setup::{ImapEndpoint, expect_ok};
use crate::stats::{LatencySummary, rate, summarize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Select,
    FetchAll,
    FetchBodies,
    Store,
    Search,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Select,
        Kind::FetchAll,
        Kind::FetchBodies,
        Kind::Store,
        Kind::Search,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Kind::Select => "SELECT",
            Kind::FetchAll => "FETCH 1:* (FLAGS ENVELOPE)",
            Kind::FetchBodies => "UID FETCH 10 x BODY.PEEK[]",
            Kind::Store => "UID STORE +/-FLAGS",
            Kind::Search => "SEARCH",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// One client of the mix: who logs in, and which folder it works on.
#[derive(Debug, Clone)]
pub struct MixClient {
    pub user: String,
    pub folder: String,
}

/// The samples of one client.
#[derive(Debug, Default)]
struct Samples {
    by_kind: [Vec<Duration>; 5],
    failures: Vec<String>,
}

/// The figures of a whole mix.
#[derive(Debug)]
pub struct MixReport {
    pub commands: usize,
    pub elapsed: Duration,
    pub by_kind: Vec<(Kind, LatencySummary)>,
    pub overall: Option<LatencySummary>,
    pub failures: Vec<String>,
    /// Bytes of the last FETCH 1:* response seen.
    pub fetch_all_bytes: usize,
}

impl MixReport {
    pub fn commands_per_second(&self) -> f64 {
        rate(self.commands, self.elapsed)
    }
}

/// The command of `kind` for iteration `round` of a client (pure, so it can be tested).
pub fn command_text(
    kind: Kind,
    folder: &str,
    round: usize,
    uids: &[u32],
    rng: &mut StdRng,
) -> String {
    match kind {
        Kind::Select => format!("SELECT {}", quoted(folder)),
        Kind::FetchAll => "FETCH 1:* (FLAGS ENVELOPE)".to_string(),
        Kind::FetchBodies => {
            let chosen: Vec<String> = uids
                .choose_multiple(rng, 10)
                .map(|u| u.to_string())
                .collect();
            format!("UID FETCH {} BODY.PEEK[]", chosen.join(","))
        }
        Kind::Store => {
            let uid = uids.choose(rng).copied().unwrap_or(1);
            let sign = if round.is_multiple_of(2) { '+' } else { '-' };
            format!("UID STORE {uid} {sign}FLAGS (\\Flagged)")
        }
        Kind::Search if round.is_multiple_of(2) => "SEARCH FLAGGED SINCE 1-Jan-2020".to_string(),
        Kind::Search => {
            let word = SUBJECT_WORDS[rng.gen_range(0..SUBJECT_WORDS.len())];
            format!("SEARCH SUBJECT {}", quoted(word))
        }
    }
}

/// The UIDs listed by `* SEARCH n n n` responses.
pub fn search_uids<'a>(lines: impl IntoIterator<Item = &'a str>) -> Vec<u32> {
    lines
        .into_iter()
        .filter_map(|line| line.strip_prefix("SEARCH"))
        .flat_map(|rest| rest.split_whitespace().filter_map(|n| n.parse().ok()))
        .collect()
}

/// Runs `clients` concurrently for `duration` and gathers their latencies.
pub async fn run_mix(
    endpoint: &ImapEndpoint,
    clients: &[MixClient],
    duration: Duration,
    seed: u64,
) -> Result<MixReport> {
    // Log in and learn the UIDs first, so the timed part is only the mix.
    let mut prepared = Vec::with_capacity(clients.len());
    for client in clients {
        prepared.push(prepare(endpoint, client).await?);
    }
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for (n, (session, uids, client)) in prepared
        .into_iter()
        .zip(clients)
        .map(|((s, u), c)| (s, u, c))
        .enumerate()
    {
        let folder = client.folder.clone();
        let mut rng = StdRng::seed_from_u64(seed.wrapping_add(n as u64));
        tasks.spawn(async move { drive(session, &folder, &uids, deadline, &mut rng).await });
    }
    let mut all = Samples::default();
    let mut fetch_all_bytes = 0;
    while let Some(joined) = tasks.join_next().await {
        let (samples, bytes) =
            joined.map_err(|e| Error::Metrics(format!("mix client task failed: {e}")))??;
        fetch_all_bytes = fetch_all_bytes.max(bytes);
        for (into, from) in all.by_kind.iter_mut().zip(samples.by_kind) {
            into.extend(from);
        }
        all.failures.extend(samples.failures);
    }
    let elapsed = started.elapsed();
    let mut overall: Vec<Duration> = all.by_kind.iter().flatten().copied().collect();
    let by_kind = Kind::ALL
        .iter()
        .filter_map(|&k| summarize(&mut all.by_kind[k.index()]).map(|s| (k, s)))
        .collect();
    Ok(MixReport {
        commands: overall.len(),
        elapsed,
        by_kind,
        overall: summarize(&mut overall),
        failures: all.failures,
        fetch_all_bytes,
    })
}

async fn prepare(endpoint: &ImapEndpoint, client: &MixClient) -> Result<(ImapClient, Vec<u32>)> {
    let mut session = endpoint.login(&client.user).await?;
    let select = session
        .command(&format!("SELECT {}", quoted(&client.folder)))
        .await
        .map_err(io(format!("SELECT {}", client.folder)))?;
    expect_ok("SELECT", &select)?;
    let search = session
        .command("UID SEARCH ALL")
        .await
        .map_err(io("UID SEARCH ALL"))?;
    expect_ok("UID SEARCH ALL", &search)?;
    let uids = search_uids(search.untagged.iter().map(|u| u.line.as_str()));
    if uids.is_empty() {
        return Err(Error::UnexpectedReply {
            step: "UID SEARCH ALL",
            expected: "some UIDs",
            reply: format!("none in {} for {}", client.folder, client.user),
        });
    }
    Ok((session, uids))
}

/// One client's loop until `deadline`; I/O errors end it, NO/BAD replies are counted.
async fn drive(
    mut session: ImapClient,
    folder: &str,
    uids: &[u32],
    deadline: Instant,
    rng: &mut StdRng,
) -> Result<(Samples, usize)> {
    let mut samples = Samples::default();
    let mut fetch_all_bytes = 0;
    let mut round = 0;
    'rounds: loop {
        for kind in Kind::ALL {
            if Instant::now() >= deadline {
                break 'rounds;
            }
            let command = command_text(kind, folder, round, uids, rng);
            let sent = Instant::now();
            let reply = session
                .command(&command)
                .await
                .map_err(io(format!("{command} on {folder}")))?;
            samples.by_kind[kind.index()].push(sent.elapsed());
            if kind == Kind::FetchAll {
                fetch_all_bytes = reply.bytes;
            }
            if !reply.is_ok() && samples.failures.len() < 5 {
                samples
                    .failures
                    .push(format!("{command} -> {}", reply.tag_line));
            }
        }
        round += 1;
    }
    let _ = session.command("LOGOUT").await;
    Ok((samples, fetch_all_bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_table() {
        let uids: Vec<u32> = (1..=50).collect();
        let mut rng = StdRng::seed_from_u64(1);
        let cases: [(Kind, usize, &str); 6] = [
            (Kind::Select, 0, "SELECT \"Shared/o@a.fr\""),
            (Kind::FetchAll, 3, "FETCH 1:* (FLAGS ENVELOPE)"),
            (Kind::FetchBodies, 0, "UID FETCH "),
            (Kind::Store, 0, "UID STORE "),
            (Kind::Search, 0, "SEARCH FLAGGED SINCE 1-Jan-2020"),
            (Kind::Search, 1, "SEARCH SUBJECT \""),
        ];
        for (kind, round, prefix) in cases {
            let text = command_text(kind, "Shared/o@a.fr", round, &uids, &mut rng);
            assert!(text.starts_with(prefix), "{kind:?}: {text}");
        }
        let bodies = command_text(Kind::FetchBodies, "f", 0, &uids, &mut rng);
        let set = bodies
            .strip_prefix("UID FETCH ")
            .and_then(|s| s.strip_suffix(" BODY.PEEK[]"))
            .unwrap();
        let chosen: Vec<u32> = set.split(',').map(|n| n.parse().unwrap()).collect();
        assert_eq!(chosen.len(), 10);
        assert!(chosen.iter().all(|u| uids.contains(u)));
        let plus = command_text(Kind::Store, "f", 0, &uids, &mut rng);
        let minus = command_text(Kind::Store, "f", 1, &uids, &mut rng);
        assert!(plus.ends_with(" +FLAGS (\\Flagged)"), "{plus}");
        assert!(minus.ends_with(" -FLAGS (\\Flagged)"), "{minus}");
    }

    #[test]
    fn search_uids_table() {
        let cases: [(&[&str], &[u32]); 5] = [
            (&["SEARCH 1 2 30"], &[1, 2, 30]),
            (&["SEARCH"], &[]),
            (&["SEARCH 4", "SEARCH 5 6"], &[4, 5, 6]),
            (&["3 EXISTS", "SEARCH 7"], &[7]),
            (&["SEARCH 1 x 2"], &[1, 2]),
        ];
        for (lines, expected) in cases {
            assert_eq!(search_uids(lines.iter().copied()), expected, "{lines:?}");
        }
    }
}
