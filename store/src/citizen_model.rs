//! What the store keeps for the rules between professionals and citizens.

/// A message from a professional to a citizen, recorded with its acceptance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CitizenExchange {
    /// Canonical addresses.
    pub professional: String,
    pub citizen: String,
    /// The message carried `X-MSS-MES: FIN`: the citizen may not answer it.
    pub closed: bool,
    /// Its Message-ID (without angle brackets), kept for a closed message.
    pub message_id: Option<String>,
}

/// What professional P sent citizen C so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExchangeHistory {
    pub wrote: bool,
    pub wrote_open: bool,
}
