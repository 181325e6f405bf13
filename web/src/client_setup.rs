//! What mail client autoconfiguration tells clients about the server (see `autoconfig`).

/// What clients are told about the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSetup {
    /// The name clients connect to (the server certificate's name).
    pub hostname: String,
    /// The mail domains served (addresses at other domains get 404).
    pub domains: Vec<String>,
    /// The citizens' domain: they use the web mailbox, not a mail client (404).
    pub citizen_domain: Option<String>,
    pub display_name: String,
    /// Implicit TLS IMAP (993) and STARTTLS IMAP (143).
    pub imaps: Option<u16>,
    pub imap: Option<u16>,
    /// STARTTLS submission (587) and implicit TLS submission (465).
    pub submission: Option<u16>,
    pub submissions: Option<u16>,
}

impl ClientSetup {
    /// The served domain of `address` (`user@domain`), case-insensitively, if it is one of
    /// ours and not the citizens'.
    pub fn domain_of(&self, address: &str) -> Option<&str> {
        let (_, domain) = address.rsplit_once('@')?;
        self.served(domain)
    }

    /// `domain` (or `autoconfig.<domain>`) if it is one of ours.
    pub fn served(&self, domain: &str) -> Option<&str> {
        let domain = domain.trim_end_matches('.');
        let domain = domain.strip_prefix("autoconfig.").unwrap_or(domain);
        if self
            .citizen_domain
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case(domain))
        {
            return None;
        }
        self.domains
            .iter()
            .find(|d| d.eq_ignore_ascii_case(domain))
            .map(String::as_str)
    }
}
