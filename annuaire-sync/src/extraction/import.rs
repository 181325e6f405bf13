//! `import_file`: streams an extraction file into a new directory generation, compares it
//! with the one in force, and switches to it unless the safety rules refuse.

use std::path::Path;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use mssd_store::{DirectoryGeneration, DirectoryRows, Store};
use tokio::sync::mpsc;
use tracing::{info, warn};

use super::columns::FileKind;
use super::input::{LineRead, MAX_LINE_BYTES, read_line, with_input};
use super::parser::{ExtractionParser, ParseCounts};
use super::progress::{Progress, ProgressMode};
use super::report::{ImportReport, diff_document, report_document};
use super::rows::Row;
use crate::error::{Error, Result};

/// Default share of the entries in force an import may remove before it is refused.
pub const DEFAULT_MAX_REMOVAL_SHARE: f64 = 0.10;
/// Keys of each kind of change kept in the diff document.
pub const DIFF_SAMPLE: usize = 1_000;

/// How to import.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// Apply even an empty file or one removing more than `max_removal_share`.
    pub force: bool,
    /// Largest share (0.0..=1.0) of the entries in force an import may remove.
    pub max_removal_share: f64,
    pub progress: ProgressMode,
    /// Rows per store write (each its own commit; bounds memory).
    pub chunk_rows: usize,
    /// Name recorded as the source; the path when `None`.
    pub source: Option<String>,
    /// Largest content read (after decompression): a zip of a few KB can expand to
    /// gigabytes. The national files are a few hundred MB.
    pub max_bytes: u64,
    /// Most lines read (the national files have a few million).
    pub max_lines: u64,
}

/// Default `max_bytes`: 4 GiB.
pub const DEFAULT_MAX_BYTES: u64 = 4 << 30;
/// Default `max_lines`: 20 million.
pub const DEFAULT_MAX_LINES: u64 = 20_000_000;

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            force: false,
            max_removal_share: DEFAULT_MAX_REMOVAL_SHARE,
            progress: ProgressMode::Auto,
            chunk_rows: 10_000,
            source: None,
            max_bytes: DEFAULT_MAX_BYTES,
            max_lines: DEFAULT_MAX_LINES,
        }
    }
}

enum ReaderMessage {
    Kind(FileKind),
    Rows(DirectoryRows),
    Done(ParseCounts),
}

/// Imports `path` (plain or zipped, either national file). The directory in force changes
/// only when the whole file was read and the result is accepted; otherwise it is untouched
/// and the error says why (`Error::Refused` carries the full report).
pub async fn import_file(
    store: &dyn Store,
    path: &Path,
    options: &ImportOptions,
) -> Result<ImportReport> {
    let started = Instant::now();
    let source = options
        .source
        .clone()
        .unwrap_or_else(|| path.display().to_string());
    let (sender, mut receiver) = mpsc::channel(2);
    let reader = {
        let path = path.to_path_buf();
        let options = options.clone();
        tokio::task::spawn_blocking(move || read_file(&path, &options, &sender))
    };
    let mut generation: Option<(FileKind, DirectoryGeneration)> = None;
    let mut counts = None;
    let written: Result<()> = async {
        while let Some(message) = receiver.recv().await {
            match message {
                ReaderMessage::Kind(kind) => {
                    let g = store.directory_begin(kind.set()).await?;
                    generation = Some((kind, g));
                }
                ReaderMessage::Rows(rows) => {
                    if let Some((_, g)) = generation {
                        store.directory_write(g, rows).await?;
                    }
                }
                ReaderMessage::Done(c) => counts = Some(c),
            }
        }
        Ok(())
    }
    .await;
    // Closing the channel stops a reader still running after a store failure.
    drop(receiver);
    let read = reader
        .await
        .map_err(|e| Error::Reader(e.to_string()))
        .and_then(|r| r);
    let failure = read.err().or(written.err());
    let (kind, generation, counts) = match (failure, generation, counts) {
        (None, Some((kind, g)), Some(counts)) => (kind, g, counts),
        (failure, g, _) => {
            if let Some((_, g)) = g {
                store.directory_discard(g).await?;
            }
            return Err(failure.unwrap_or_else(|| Error::EmptyFile {
                path: path.to_path_buf(),
            }));
        }
    };

    let diff = match store.directory_diff(generation, DIFF_SAMPLE).await {
        Ok(diff) => diff,
        Err(e) => {
            store.directory_discard(generation).await?;
            return Err(e.into());
        }
    };
    let refusal = refusal(&diff, options.max_removal_share);
    let apply = refusal.is_none() || options.force;
    let mut report = ImportReport {
        file: kind,
        source: source.clone(),
        merged: counts.accepted.saturating_sub(diff.next),
        counts,
        entries: diff.next,
        diff,
        replaced: apply,
        forced: refusal.is_some() && options.force,
        refused: if apply { None } else { refusal.clone() },
        finished_at: 0,
        elapsed_ms: 0,
    };
    let set = kind.set();
    if apply {
        store.directory_commit(generation, &source).await?;
    } else {
        store.directory_discard(generation).await?;
    }
    report.finished_at = now_unix();
    report.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    log_report(&report);
    store
        .put_document(&report_document(set), to_json(&report))
        .await?;
    if apply {
        store
            .put_document(&diff_document(set), to_json(&report.diff))
            .await?;
        Ok(report)
    } else {
        Err(Error::Refused {
            reason: refusal.unwrap_or_default(),
            report: Box::new(report),
        })
    }
}

/// Why the safety rules refuse this diff, if they do.
fn refusal(diff: &mssd_store::DirectoryDiff, max_removal_share: f64) -> Option<String> {
    if diff.next == 0 {
        return Some("the file has no valid entry (use --force to empty the directory)".to_owned());
    }
    if diff.previous > 0 {
        let share = diff.removed as f64 / diff.previous as f64;
        if share > max_removal_share {
            return Some(format!(
                "it would remove {} of {} entries ({:.1} %), more than the {:.1} % allowed \
                 (use --force to apply it)",
                diff.removed,
                diff.previous,
                share * 100.0,
                max_removal_share * 100.0
            ));
        }
    }
    None
}

fn log_report(r: &ImportReport) {
    let d = &r.diff;
    if r.replaced {
        info!(
            file = r.file.as_str(),
            lines = r.counts.lines,
            accepted = r.counts.accepted,
            malformed = r.counts.malformed,
            merged = r.merged,
            entries = r.entries,
            added = d.added,
            removed = d.removed,
            changed = d.changed,
            forced = r.forced,
            elapsed_ms = r.elapsed_ms,
            "annuaire import applied"
        );
    } else {
        warn!(
            file = r.file.as_str(),
            lines = r.counts.lines,
            malformed = r.counts.malformed,
            entries = r.entries,
            added = d.added,
            removed = d.removed,
            changed = d.changed,
            reason = r.refused.as_deref().unwrap_or(""),
            "annuaire import refused"
        );
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    // Our report types always serialise; an empty document would still be valid to keep.
    serde_json::to_vec_pretty(value).unwrap_or_default()
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The blocking half: reads and parses, sending chunks of rows to the async half.
fn read_file(
    path: &Path,
    options: &ImportOptions,
    sender: &mpsc::Sender<ReaderMessage>,
) -> Result<()> {
    let (mode, chunk) = (options.progress, options.chunk_rows.max(1));
    let too_large = |what: &str, limit: u64| Error::TooLarge {
        path: path.to_path_buf(),
        what: what.to_owned(),
        limit,
    };
    with_input(path, |reader, total| {
        // A zip announcing more than the cap is refused before reading; one that lies is
        // stopped by the count below.
        if total > options.max_bytes {
            return Err(too_large("bytes once decompressed", options.max_bytes));
        }
        let mut progress = Progress::start(mode, total);
        let mut parser = ExtractionParser::new();
        let mut line = Vec::new();
        let mut read_bytes = 0u64;
        let mut rows = Pending::default();
        loop {
            let (outcome, used) =
                read_line(reader, &mut line, MAX_LINE_BYTES).map_err(|e| Error::Io {
                    path: path.to_path_buf(),
                    detail: e.to_string(),
                })?;
            read_bytes += used as u64;
            if read_bytes > options.max_bytes {
                return Err(too_large("bytes once decompressed", options.max_bytes));
            }
            if parser.counts().lines >= options.max_lines && outcome != LineRead::End {
                return Err(too_large("lines", options.max_lines));
            }
            let row = match outcome {
                LineRead::End => break,
                LineRead::TooLong if parser.kind().is_none() => {
                    return Err(Error::UnknownHeader {
                        first_columns: vec![format!("a header longer than {MAX_LINE_BYTES} bytes")],
                    });
                }
                LineRead::TooLong => {
                    parser.skip_overlong(MAX_LINE_BYTES);
                    None
                }
                LineRead::Line => {
                    let had_kind = parser.kind().is_some();
                    let row = parser.feed(&line)?;
                    if let (false, Some(kind)) = (had_kind, parser.kind())
                        && sender.blocking_send(ReaderMessage::Kind(kind)).is_err()
                    {
                        return Ok(());
                    }
                    row
                }
            };
            if let Some(row) = row {
                rows.push(row);
                if rows.len() >= chunk && !send(sender, rows.take()) {
                    return Ok(());
                }
            }
            let counts = parser.counts();
            if counts.lines.is_multiple_of(1024) {
                progress.update(read_bytes, counts.lines);
            }
        }
        if parser.kind().is_none() {
            return Err(Error::EmptyFile {
                path: path.to_path_buf(),
            });
        }
        progress.update(read_bytes, parser.counts().lines);
        progress.finish(parser.counts().lines);
        if !rows.is_empty() && !send(sender, rows.take()) {
            return Ok(());
        }
        // A closed channel means the async half gave up; it reports its own error.
        let _ = sender.blocking_send(ReaderMessage::Done(parser.into_counts()));
        Ok(())
    })
}

fn send(sender: &mpsc::Sender<ReaderMessage>, rows: DirectoryRows) -> bool {
    sender.blocking_send(ReaderMessage::Rows(rows)).is_ok()
}

/// Rows parsed but not yet sent.
#[derive(Default)]
struct Pending {
    mailboxes: Vec<mssd_store::DirectoryMailbox>,
    activities: Vec<mssd_store::DirectoryActivity>,
}

impl Pending {
    fn push(&mut self, row: Row) {
        match row {
            Row::Mailbox(m) => self.mailboxes.push(m),
            Row::Activity(a) => self.activities.push(a),
        }
    }

    fn len(&self) -> usize {
        self.mailboxes.len() + self.activities.len()
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The pending rows (a file holds one kind only).
    fn take(&mut self) -> DirectoryRows {
        if self.activities.is_empty() {
            DirectoryRows::Mailboxes(std::mem::take(&mut self.mailboxes))
        } else {
            DirectoryRows::Activities(std::mem::take(&mut self.activities))
        }
    }
}
