//! The protocols mssd listens for, and what each says when a connection limit refuses a client.

/// What a listener speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Smtp,
    Submission,
    Submissions,
    Imap,
    Imaps,
    Http,
    Https,
}

impl Protocol {
    /// This protocol's address among `listeners`.
    pub fn slot(
        self,
        listeners: &mut crate::config::Listeners,
    ) -> &mut Option<std::net::SocketAddr> {
        match self {
            Protocol::Smtp => &mut listeners.smtp,
            Protocol::Submission => &mut listeners.submission,
            Protocol::Submissions => &mut listeners.submissions,
            Protocol::Imap => &mut listeners.imap,
            Protocol::Imaps => &mut listeners.imaps,
            Protocol::Http => &mut listeners.http,
            Protocol::Https => &mut listeners.https,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Protocol::Smtp => "smtp",
            Protocol::Submission => "submission",
            Protocol::Submissions => "submissions",
            Protocol::Imap => "imap",
            Protocol::Imaps => "imaps",
            Protocol::Http => "http",
            Protocol::Https => "https",
        }
    }

    /// The line sent to a client refused by a connection limit, in the protocol's own terms.
    pub fn refusal_line(self, per_ip: bool) -> Option<&'static [u8]> {
        match self {
            Protocol::Smtp | Protocol::Submission if per_ip => {
                Some(b"421 4.7.0 Too many connections from your address, try again later\r\n")
            }
            Protocol::Smtp | Protocol::Submission => Some(b"421 4.3.2 Too many connections, try again later\r\n"),
            Protocol::Imap => Some(b"* BYE [UNAVAILABLE] Too many connections, try again later\r\n"),
            Protocol::Http => Some(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
            // Implicit-TLS ports cannot say anything before the handshake.
            Protocol::Submissions | Protocol::Imaps | Protocol::Https => None,
        }
    }
}
