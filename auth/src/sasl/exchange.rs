//! The SASL exchange as a state machine: the protocol layer feeds decoded client
//! responses and sends the challenges it gets back.

use std::fmt;

use crate::error::{Error, Result};
use crate::sasl::bearer::{parse_oauthbearer, parse_xoauth2};
use crate::sasl::credentials::Credentials;
use crate::sasl::external::parse_external;
use crate::sasl::mechanism::Mechanism;
use crate::sasl::password::{parse_login_field, parse_plain};

/// The LOGIN challenges, as every client expects them.
const LOGIN_USERNAME: &[u8] = b"Username:";
const LOGIN_PASSWORD: &[u8] = b"Password:";

/// What the server does next.
#[derive(PartialEq, Eq)]
pub enum Step {
    /// Send this challenge (raw bytes; the protocol layer base64-encodes it) and wait for a
    /// response.
    Challenge(Vec<u8>),
    /// The client's credentials are complete: authenticate them.
    Done(Credentials),
    /// The exchange failed; answer with an authentication failure.
    Failed(Error),
}

impl fmt::Debug for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Challenges are server text (prompts, error JSON), never secrets.
            Step::Challenge(c) => f
                .debug_tuple("Challenge")
                .field(&String::from_utf8_lossy(c))
                .finish(),
            Step::Done(credentials) => f.debug_tuple("Done").field(credentials).finish(),
            Step::Failed(e) => f.debug_tuple("Failed").field(e).finish(),
        }
    }
}

enum State {
    /// Waiting for the one message of PLAIN, EXTERNAL, XOAUTH2 or OAUTHBEARER.
    AwaitMessage,
    AwaitLoginUsername,
    AwaitLoginPassword {
        username: String,
    },
    /// Credentials were handed out; a bearer failure may still be reported.
    Done,
    /// The bearer error JSON was sent; the client's `^A` ends the exchange.
    AwaitErrorAck,
    Finished,
}

/// One SASL exchange on one connection.
pub struct SaslExchange {
    mechanism: Mechanism,
    state: State,
}

impl SaslExchange {
    /// Starts an exchange. `initial_response` is the SASL-IR (RFC 4954 / RFC 4959) already
    /// decoded (`=` decodes to an empty response); `None` when the client sent none.
    pub fn start(mechanism: Mechanism, initial_response: Option<&[u8]>) -> (SaslExchange, Step) {
        let mut exchange = SaslExchange {
            mechanism,
            state: match mechanism {
                Mechanism::Login => State::AwaitLoginUsername,
                _ => State::AwaitMessage,
            },
        };
        let step = match (initial_response, mechanism) {
            (Some(response), _) => exchange.step(response),
            (None, Mechanism::Login) => Step::Challenge(LOGIN_USERNAME.to_vec()),
            // RFC 4422 5: the server asks for the first message with an empty challenge.
            (None, _) => Step::Challenge(Vec::new()),
        };
        (exchange, step)
    }

    pub fn mechanism(&self) -> Mechanism {
        self.mechanism
    }

    /// Feeds one decoded client response.
    pub fn step(&mut self, response: &[u8]) -> Step {
        match std::mem::replace(&mut self.state, State::Finished) {
            State::AwaitMessage => self.finish(self.parse_message(response)),
            State::AwaitLoginUsername => match parse_login_field("username", response) {
                Ok(username) => {
                    self.state = State::AwaitLoginPassword { username };
                    Step::Challenge(LOGIN_PASSWORD.to_vec())
                }
                Err(e) => Step::Failed(e),
            },
            State::AwaitLoginPassword { username } => {
                let credentials =
                    parse_login_field("password", response).map(|password| Credentials::Password {
                        mechanism: Mechanism::Login,
                        authzid: None,
                        username,
                        password,
                    });
                self.finish(credentials)
            }
            // RFC 7628 3.2.3: whatever the client answers to the error, the exchange fails.
            State::AwaitErrorAck => Step::Failed(Error::SaslTokenRejected),
            State::Done | State::Finished => Step::Failed(Error::SaslFinished),
        }
    }

    /// After [`Step::Done`] for XOAUTH2 / OAUTHBEARER, when authentication failed: sends
    /// the JSON error (`AuthFailure::bearer_challenge`) as a final challenge. The client's
    /// next response (`^A`) then yields `Step::Failed(Error::SaslTokenRejected)`.
    pub fn reject_bearer(&mut self, json_error: &str) -> Step {
        match self.state {
            State::Done if self.mechanism.is_bearer() => {
                self.state = State::AwaitErrorAck;
                Step::Challenge(json_error.as_bytes().to_vec())
            }
            _ => {
                self.state = State::Finished;
                Step::Failed(Error::SaslFinished)
            }
        }
    }

    fn parse_message(&self, response: &[u8]) -> Result<Credentials> {
        match self.mechanism {
            Mechanism::Plain => parse_plain(response),
            Mechanism::External => parse_external(response),
            Mechanism::Xoauth2 => parse_xoauth2(response),
            Mechanism::OauthBearer => parse_oauthbearer(response),
            // LOGIN never waits for a single message.
            Mechanism::Login => Err(Error::SaslFinished),
        }
    }

    fn finish(&mut self, credentials: Result<Credentials>) -> Step {
        match credentials {
            Ok(credentials) => {
                self.state = State::Done;
                Step::Done(credentials)
            }
            Err(e) => Step::Failed(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn password(username: &str, pw: &str, mechanism: Mechanism) -> Step {
        Step::Done(Credentials::Password {
            mechanism,
            authzid: None,
            username: username.to_owned(),
            password: pw.to_owned(),
        })
    }

    /// (mechanism, initial response, responses, every step in order).
    type ExchangeCase = (
        Mechanism,
        Option<&'static [u8]>,
        Vec<&'static [u8]>,
        Vec<Step>,
    );

    #[test]
    fn exchange_table() {
        let bearer_message = b"n,,\x01auth=Bearer abc\x01\x01".as_slice();
        let bearer_done = Step::Done(Credentials::Bearer {
            mechanism: Mechanism::OauthBearer,
            authzid_or_user: None,
            token: "abc".to_owned(),
        });
        let cases: Vec<ExchangeCase> = vec![
            (
                Mechanism::Plain,
                Some(b"\0u@x.fr\0pw"),
                vec![],
                vec![password("u@x.fr", "pw", Mechanism::Plain)],
            ),
            (
                Mechanism::Plain,
                None,
                vec![b"\0u@x.fr\0pw"],
                vec![
                    Step::Challenge(vec![]),
                    password("u@x.fr", "pw", Mechanism::Plain),
                ],
            ),
            (
                Mechanism::Plain,
                Some(b""),
                vec![],
                vec![Step::Failed(Error::sasl(
                    "PLAIN",
                    "expected authzid NUL authcid NUL passwd (two NUL separators)",
                ))],
            ),
            (
                Mechanism::Login,
                None,
                vec![b"u@x.fr", b"pw"],
                vec![
                    Step::Challenge(b"Username:".to_vec()),
                    Step::Challenge(b"Password:".to_vec()),
                    password("u@x.fr", "pw", Mechanism::Login),
                ],
            ),
            (
                Mechanism::Login,
                Some(b"u@x.fr"),
                vec![b"pw", b"more"],
                vec![
                    Step::Challenge(b"Password:".to_vec()),
                    password("u@x.fr", "pw", Mechanism::Login),
                    Step::Failed(Error::SaslFinished),
                ],
            ),
            (
                Mechanism::Login,
                None,
                vec![b"u@x.fr", b""],
                vec![
                    Step::Challenge(b"Username:".to_vec()),
                    Step::Challenge(b"Password:".to_vec()),
                    Step::Failed(Error::sasl("LOGIN", "password is empty")),
                ],
            ),
            (
                Mechanism::External,
                Some(b""),
                vec![],
                vec![Step::Done(Credentials::External { authzid: None })],
            ),
            (
                Mechanism::External,
                None,
                vec![b"app@x.fr"],
                vec![
                    Step::Challenge(vec![]),
                    Step::Done(Credentials::External {
                        authzid: Some("app@x.fr".to_owned()),
                    }),
                ],
            ),
            (
                Mechanism::OauthBearer,
                Some(bearer_message),
                vec![b"\x01"],
                vec![bearer_done, Step::Failed(Error::SaslFinished)],
            ),
        ];
        for (mechanism, initial, responses, expected) in cases {
            let (mut exchange, first) = SaslExchange::start(mechanism, initial);
            let mut steps = vec![first];
            for response in &responses {
                steps.push(exchange.step(response));
            }
            assert_eq!(steps, expected, "{mechanism} {initial:?} {responses:?}");
        }
    }

    #[test]
    fn bearer_failure_sends_the_json_then_fails() {
        let json = r#"{"status":"invalid_token","schemes":"bearer","scope":"openid"}"#;
        for (mechanism, message) in [
            (
                Mechanism::OauthBearer,
                b"n,a=u@x.fr,\x01auth=Bearer abc\x01\x01".as_slice(),
            ),
            (
                Mechanism::Xoauth2,
                b"user=u@x.fr\x01auth=Bearer abc\x01\x01".as_slice(),
            ),
        ] {
            let (mut exchange, step) = SaslExchange::start(mechanism, Some(message));
            assert!(
                matches!(step, Step::Done(Credentials::Bearer { .. })),
                "{step:?}"
            );
            assert_eq!(
                exchange.reject_bearer(json),
                Step::Challenge(json.as_bytes().to_vec())
            );
            assert_eq!(
                exchange.step(b"\x01"),
                Step::Failed(Error::SaslTokenRejected)
            );
            assert_eq!(exchange.step(b"\x01"), Step::Failed(Error::SaslFinished));
        }
    }

    #[test]
    fn reject_bearer_is_refused_for_other_mechanisms_and_before_done() {
        let (mut plain, _) = SaslExchange::start(Mechanism::Plain, Some(b"\0u\0p"));
        assert_eq!(plain.reject_bearer("{}"), Step::Failed(Error::SaslFinished));
        let (mut waiting, _) = SaslExchange::start(Mechanism::Xoauth2, None);
        assert_eq!(
            waiting.reject_bearer("{}"),
            Step::Failed(Error::SaslFinished)
        );
    }
}
