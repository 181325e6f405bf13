//! Who may write to whom between professionals and citizens (ref §1; the rules), as
//! one policy: pure decisions over what the store knows of past exchanges. Each refusal
//! names its rule, so the reply and the audit line say which one applied.

/// One end of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    /// A professional mailbox (PER, ORG, APP, CAB) at any listed domain.
    Professional,
    Citizen,
}

/// What the store knows of the messages professional P sent to citizen C.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct History {
    /// P wrote to C at least once.
    pub wrote: bool,
    /// P wrote to C at least once without `X-MSS-MES: FIN`.
    pub wrote_open: bool,
}

/// The rule a refusal applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// A citizen never writes to another citizen.
    CitizenToCitizen,
    /// A citizen writes first only to a mailbox of `[citizen] first_contact_allowed`.
    FirstContact,
    /// The professional only ever wrote with `X-MSS-MES: FIN`: no reply is possible.
    OnlyClosedMessages,
    /// The message answers (In-Reply-To / References) a message that carried FIN.
    ReplyToClosed,
}

impl Rule {
    pub fn name(self) -> &'static str {
        match self {
            Rule::CitizenToCitizen => "citizen-to-citizen",
            Rule::FirstContact => "first-contact",
            Rule::OnlyClosedMessages => "no-reply-expected",
            Rule::ReplyToClosed => "reply-to-closed",
        }
    }

    /// The reply text (`550 5.7.1 <text>`).
    pub fn text(self) -> &'static str {
        match self {
            Rule::CitizenToCitizen => "A citizen may not write to another citizen",
            Rule::FirstContact => {
                "A citizen may not write first to this mailbox: a health professional must write first"
            }
            Rule::OnlyClosedMessages => {
                "This professional's messages do not expect a reply (X-MSS-MES: FIN)"
            }
            Rule::ReplyToClosed => {
                "This message answers a message that does not expect a reply (X-MSS-MES: FIN)"
            }
        }
    }
}

/// At RCPT: may `sender` write to `recipient` at all? `allowed_first` is whether the
/// recipient is on `[citizen] first_contact_allowed`.
pub fn at_rcpt(
    sender: Party,
    recipient: Party,
    history: History,
    allowed_first: bool,
) -> Result<(), Rule> {
    match (sender, recipient) {
        (Party::Professional, _) => Ok(()),
        (Party::Citizen, Party::Citizen) => Err(Rule::CitizenToCitizen),
        (Party::Citizen, Party::Professional) if history.wrote || allowed_first => Ok(()),
        (Party::Citizen, Party::Professional) => Err(Rule::FirstContact),
    }
}

/// At the end of DATA, for a citizen writing to a professional: the exchange must be open,
/// and the message must not answer a closed one. A mailbox open to first contacts accepts
/// a citizen's new message (not a reply to a closed one) whatever the history.
pub fn at_data(history: History, allowed_first: bool, replies_to_closed: bool) -> Result<(), Rule> {
    if replies_to_closed {
        return Err(Rule::ReplyToClosed);
    }
    if history.wrote && !history.wrote_open && !allowed_first {
        return Err(Rule::OnlyClosedMessages);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONE: History = History {
        wrote: false,
        wrote_open: false,
    };
    const OPEN: History = History {
        wrote: true,
        wrote_open: true,
    };
    const CLOSED: History = History {
        wrote: true,
        wrote_open: false,
    };

    #[test]
    fn rcpt_table() {
        use Party::*;
        let cases = [
            (Professional, Citizen, NONE, false, Ok(())),
            (Professional, Professional, NONE, false, Ok(())),
            (Citizen, Citizen, OPEN, true, Err(Rule::CitizenToCitizen)),
            (Citizen, Professional, NONE, false, Err(Rule::FirstContact)),
            (Citizen, Professional, NONE, true, Ok(())),
            (Citizen, Professional, OPEN, false, Ok(())),
            (Citizen, Professional, CLOSED, false, Ok(())),
        ];
        for (sender, recipient, history, allowed, expected) in cases {
            assert_eq!(
                at_rcpt(sender, recipient, history, allowed),
                expected,
                "{sender:?} -> {recipient:?} {history:?} {allowed}"
            );
        }
    }

    #[test]
    fn data_table() {
        let cases = [
            (OPEN, false, false, Ok(())),
            (OPEN, false, true, Err(Rule::ReplyToClosed)),
            (CLOSED, false, false, Err(Rule::OnlyClosedMessages)),
            (CLOSED, true, false, Ok(())),
            (NONE, true, false, Ok(())),
            (NONE, true, true, Err(Rule::ReplyToClosed)),
        ];
        for (history, allowed, replies, expected) in cases {
            assert_eq!(
                at_data(history, allowed, replies),
                expected,
                "{history:?} {allowed} {replies}"
            );
        }
    }
}
