//! Stored flag strings ("\\Seen", "$Label1") to the FLAGS values of a FETCH response.

use imap_codec::imap_types::core::Atom;
use imap_codec::imap_types::flag::{Flag, FlagFetch};

/// Converts flag strings to imap-types FlagFetch values (system flags, keywords); skips
/// invalid atoms. `\Recent` is never stored (STORE and APPEND cannot set it): the session adds
/// it for the messages recent to it.
pub fn flags_to_imap(flags: &[String]) -> Vec<FlagFetch<'static>> {
    flags.iter().filter_map(|flag| flag_to_imap(flag)).collect()
}

fn flag_to_imap(flag: &str) -> Option<FlagFetch<'static>> {
    let converted = match flag.strip_prefix('\\') {
        Some(name) if name.eq_ignore_ascii_case("recent") => return Some(FlagFetch::Recent),
        Some(name) => Atom::try_from(name.to_owned()).map(Flag::system),
        None => Atom::try_from(flag.to_owned()).map(Flag::keyword),
    };
    match converted {
        Ok(flag) => Some(FlagFetch::Flag(flag)),
        Err(error) => {
            tracing::debug!(%error, "stored flag is not an IMAP atom; not reported");
            None
        }
    }
}
