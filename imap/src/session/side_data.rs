//! The side data the input gate sets aside for commands (spooled APPEND messages, extension
//! lines, ESEARCH options, MULTIAPPEND markers), queued in command order.

use std::collections::VecDeque;

/// Side data kept for commands not yet handled (pipelined ones, ones imap-next refused).
const MAX_PENDING_SIDE_DATA: usize = 64;

/// Side data the input gate set aside for a command (a spooled APPEND message, an extension
/// line, ESEARCH options) is queued in command order and taken when the command is handled.
/// Entries before the one taken belong to commands imap-next refused, so they go too.
pub(super) fn take_in_order<T>(queue: &mut VecDeque<T>, matches: impl Fn(&T) -> bool) -> Option<T> {
    let at = queue.iter().position(matches)?;
    queue.drain(..at);
    queue.pop_front()
}

/// Queues side data for a command; entries of commands imap-next refused wait for a later
/// tag, so the queue is bounded.
pub(super) fn bounded_push<T>(queue: &mut VecDeque<T>, entry: T) {
    if queue.len() >= MAX_PENDING_SIDE_DATA {
        queue.pop_front();
    }
    queue.push_back(entry);
}
