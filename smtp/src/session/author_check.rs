//! RFC 5322 author fields on submission: `From:` (and `Sender:` when present) must name
//! addresses the authenticated identity may send as, its own mailbox or one it holds the
//! `send` right on, as MAIL FROM must. Otherwise a user could write `From: chef-de-service@…`
//! of our own domain. A message without `From:` gets the envelope sender's (RFC 6409 8.1).

use mail_parser::{Address as ParsedAddress, HeaderName, HeaderValue, MessageParser};
use mssd_core::Address;

use super::Session;
use super::state::Transaction;
use crate::message::headers;
use crate::reply::Reply;

/// The addresses a header block's author fields name.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Authors {
    /// Every `From:` field's addresses (None: a field with no readable address).
    pub from: Vec<Option<String>>,
    pub from_fields: usize,
    pub sender: Vec<Option<String>>,
}

/// Reads `From:` and `Sender:` of a header block (groups, comments and display names as RFC
/// 5322 allows them; encoded words decoded).
pub fn authors(header_block: &[u8]) -> Authors {
    let mut authors = Authors::default();
    let Some(parsed) = MessageParser::new().parse_headers(header_block) else {
        return authors;
    };
    for header in parsed.headers() {
        let target = match header.name {
            HeaderName::From => {
                authors.from_fields += 1;
                &mut authors.from
            }
            HeaderName::Sender => &mut authors.sender,
            _ => continue,
        };
        match &header.value {
            HeaderValue::Address(address) => push_addresses(address, target),
            _ => target.push(None),
        }
    }
    authors
}

fn push_addresses(address: &ParsedAddress<'_>, target: &mut Vec<Option<String>>) {
    let before = target.len();
    match address {
        ParsedAddress::List(list) => {
            target.extend(list.iter().map(|a| a.address.as_deref().map(str::to_owned)))
        }
        ParsedAddress::Group(groups) => target.extend(
            groups
                .iter()
                .flat_map(|g| g.addresses.iter())
                .map(|a| a.address.as_deref().map(str::to_owned)),
        ),
    }
    if target.len() == before {
        target.push(None);
    }
}

impl Session<'_> {
    /// Checks the author fields of a submitted message; adds `From:` when there is none.
    pub(super) async fn check_authors(&mut self, tx: &mut Transaction) -> Result<(), Reply> {
        let Some(user) = &self.user else {
            return Ok(());
        };
        let own = user.mailbox.address.clone();
        let block = &tx.body[..headers::header_block_len(&tx.body)];
        let found = authors(block);
        if found.from_fields == 0 {
            let author = tx.sender.clone().unwrap_or(own);
            let at = headers::header_insert_point(&tx.body);
            tx.body
                .splice(at..at, format!("From: <{author}>\r\n").into_bytes());
            return Ok(());
        }
        if found.from_fields > 1 {
            return Err(refusal("From:", "more than one From: field (RFC 5322 3.6)"));
        }
        // Several authors need a Sender: naming the one who sent it (RFC 5322 3.6.2).
        if found.from.len() > 1 && found.sender.is_empty() {
            return Err(refusal("From:", "several authors and no Sender: field"));
        }
        for (field, addresses) in [("From:", &found.from), ("Sender:", &found.sender)] {
            for address in addresses {
                let Some(text) = address else {
                    return Err(refusal(field, "no address in it"));
                };
                let allowed = match Address::parse(text) {
                    Ok(address) => {
                        address.canonical() == own.canonical()
                            || self.delegated_sender(&own, &address).await?
                    }
                    Err(_) => false,
                };
                if !allowed {
                    let why = format!("<{text}> is not an address you may send as");
                    return Err(refusal(field, &why));
                }
            }
        }
        Ok(())
    }
}

fn refusal(field: &str, why: &str) -> Reply {
    Reply::new(
        550,
        (5, 7, 1),
        format!(
            "{field} {why}: the authenticated identity may send as its own mailbox or one it holds the send right on"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authors_table() {
        let some = |s: &str| Some(s.to_owned());
        type Addresses = Vec<Option<String>>;
        let cases: Vec<(&str, Addresses, usize, Addresses)> = vec![
            ("From: a@x.fr\r\n\r\n", vec![some("a@x.fr")], 1, vec![]),
            (
                "From: \"Dr A\" <a@x.fr>\r\nSender: s@x.fr\r\n\r\n",
                vec![some("a@x.fr")],
                1,
                vec![some("s@x.fr")],
            ),
            (
                "From: <user-from (comment)@ (comment) domain.org>\r\n\r\n",
                vec![some("user-from@domain.org")],
                1,
                vec![],
            ),
            (
                "From: =?utf-8?q?Dr_=C3=89lise?= <e@x.fr>, b@y.fr\r\n\r\n",
                vec![some("e@x.fr"), some("b@y.fr")],
                1,
                vec![],
            ),
            (
                "From: Team: a@x.fr, b@x.fr;\r\n\r\n",
                vec![some("a@x.fr"), some("b@x.fr")],
                1,
                vec![],
            ),
            ("Subject: none\r\n\r\n", vec![], 0, vec![]),
            (
                "From: a@x.fr\r\nFrom: b@x.fr\r\n\r\n",
                vec![some("a@x.fr"), some("b@x.fr")],
                2,
                vec![],
            ),
        ];
        for (block, from, fields, sender) in cases {
            let got = authors(block.as_bytes());
            assert_eq!(got.from, from, "{block:?}");
            assert_eq!(got.from_fields, fields, "{block:?}");
            assert_eq!(got.sender, sender, "{block:?}");
        }
    }
}
