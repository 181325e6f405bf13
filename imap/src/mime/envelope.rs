//! ENVELOPE (RFC 3501 §7.4.2, RFC 9051 §7.5.2) from the top-level header of a stored message.
//! Strings are the header text as sent (unfolded), encoded words included: clients decode them.

use imap_codec::imap_types::core::NString;
use imap_codec::imap_types::envelope::{Address, Envelope};

use super::address::{AddressItem, MailboxAddress, parse_address_list};
use super::header_block::{first_value_in, header_fields, split_header_body};
use super::imap_string::{nstring, nstring_non_empty};

/// The ENVELOPE of `message`. Sender and Reply-To default to From when absent or empty.
pub fn envelope(message: &[u8]) -> Envelope<'static> {
    let (header, _) = split_header_body(message);
    // Split once: ENVELOPE reads ten fields.
    let fields = header_fields(header);
    let text = |name: &str| nstring_non_empty(first_value_in(&fields, name).as_deref());
    let addresses = |name: &str| {
        first_value_in(&fields, name)
            .map(|value| imap_addresses(&parse_address_list(&value)))
            .unwrap_or_default()
    };
    let from = addresses("From");
    let or_from = |list: Vec<Address<'static>>| if list.is_empty() { from.clone() } else { list };
    Envelope {
        date: text("Date"),
        subject: text("Subject"),
        sender: or_from(addresses("Sender")),
        reply_to: or_from(addresses("Reply-To")),
        from: from.clone(),
        to: addresses("To"),
        cc: addresses("Cc"),
        bcc: addresses("Bcc"),
        in_reply_to: text("In-Reply-To"),
        message_id: text("Message-ID"),
    }
}

/// Groups become a start marker (NIL NIL "name" NIL), their members, then (NIL NIL NIL NIL).
fn imap_addresses(items: &[AddressItem]) -> Vec<Address<'static>> {
    let mut out = Vec::new();
    for item in items {
        match item {
            AddressItem::Mailbox(mailbox) => out.push(imap_address(mailbox)),
            AddressItem::Group { name, members } => {
                out.push(Address {
                    name: NString::NIL,
                    adl: NString::NIL,
                    mailbox: nstring(Some(name)),
                    host: NString::NIL,
                });
                out.extend(members.iter().map(imap_address));
                out.push(Address {
                    name: NString::NIL,
                    adl: NString::NIL,
                    mailbox: NString::NIL,
                    host: NString::NIL,
                });
            }
        }
    }
    out
}

fn imap_address(mailbox: &MailboxAddress) -> Address<'static> {
    Address {
        name: nstring_non_empty(mailbox.name.as_deref()),
        adl: nstring_non_empty(mailbox.adl.as_deref()),
        mailbox: nstring(Some(&mailbox.mailbox)),
        host: nstring(Some(&mailbox.host)),
    }
}
