//! Feeding received bytes through the session's current input state: command lines, DATA,
//! BDAT chunks, content being discarded, the rest of an over-long line, AUTH responses.

use smtp_proto::Error as ParseError;
use smtp_proto::request::receiver::{DummyDataReceiver, DummyLineReceiver};

use super::state::Input;
use super::{Flow, Session};
use crate::replies;

/// AUTH response lines may carry a bearer token: more room than a command line.
pub(super) const MAX_AUTH_LINE: usize = 16 * 1024;

impl Session<'_> {
    pub(super) async fn process(&mut self, bytes: &[u8]) -> Flow {
        let mut iter = bytes.iter();
        loop {
            let flow = match &mut self.input {
                Input::Command => {
                    let parsed = self.receiver.ingest(&mut iter).map(|r| r.into_owned());
                    match parsed {
                        Ok(request) => {
                            self.commands += 1;
                            self.commands_since_message += 1;
                            let flow = self.command(request).await;
                            if flow == Flow::StartTls && !iter.as_slice().is_empty() {
                                // RFC 3207 §5: bytes pipelined after STARTTLS are an injection
                                // attempt; they must not be processed after the upgrade.
                                tracing::warn!(peer = %self.peer, "discarding data pipelined after STARTTLS");
                            }
                            flow
                        }
                        Err(ParseError::NeedsMoreData { .. }) => return Flow::Continue,
                        Err(ParseError::ResponseTooLong) => {
                            self.input = Input::SkipLine;
                            Flow::Continue
                        }
                        Err(e) => {
                            self.commands += 1;
                            self.commands_since_message += 1;
                            self.reply(parse_error_reply(&e));
                            Flow::Continue
                        }
                    }
                }
                Input::SkipLine => {
                    if !DummyLineReceiver::default().ingest(&mut iter) {
                        return Flow::Continue;
                    }
                    self.input = Input::Command;
                    let reply = replies::line_too_long();
                    self.audit_refusal("command", &reply, None).await;
                    self.reply(reply);
                    Flow::Continue
                }
                Input::Data(receiver) => {
                    let tx = self.tx.get_or_insert_default();
                    let done = receiver.ingest(&mut iter, &mut tx.body);
                    if tx.size() > self.ctx.config.max_message_size {
                        // Stop storing: discard the rest and refuse at the final dot.
                        tx.body = Vec::new();
                        tx.spool = None;
                        let discard = DummyDataReceiver::new_data(receiver);
                        self.input = Input::Discard {
                            receiver: discard,
                            last: true,
                        };
                        continue;
                    }
                    // A spooling failure is answered at the end of the content, which goes on
                    // being read (and discarded) until then.
                    if let Err(reply) = self.spool_if_large() {
                        self.fail_transaction(reply);
                    }
                    if !done {
                        return Flow::Continue;
                    }
                    self.input = Input::Command;
                    self.end_of_message().await;
                    Flow::Continue
                }
                Input::Bdat(receiver) => {
                    let tx = self.tx.get_or_insert_default();
                    let done = receiver.ingest(&mut iter, &mut tx.body);
                    let last = receiver.is_last;
                    // A spooling failure is answered at the end of the content, which goes on
                    // being read (and discarded) until then.
                    if let Err(reply) = self.spool_if_large() {
                        self.fail_transaction(reply);
                    }
                    if !done {
                        return Flow::Continue;
                    }
                    self.input = Input::Command;
                    if last {
                        self.end_of_message().await;
                    } else {
                        let size = self.tx.as_ref().map_or(0, |t| t.size());
                        self.reply(replies::chunk_ok(size));
                    }
                    Flow::Continue
                }
                Input::Discard { receiver, last } => {
                    if !receiver.ingest(&mut iter) {
                        return Flow::Continue;
                    }
                    let last = *last;
                    self.input = Input::Command;
                    self.refuse_oversize(last).await;
                    Flow::Continue
                }
                Input::Auth => match self.auth_line(&mut iter) {
                    Some(line) => self.auth_response(line).await,
                    None => return Flow::Continue,
                },
            };
            if flow != Flow::Continue {
                return flow;
            }
            if self.errors >= self.ctx.config.max_errors
                || self.commands_since_message >= self.ctx.config.max_commands
            {
                self.reply(replies::too_many_commands(&self.ctx.config.hostname));
                return Flow::Close;
            }
            if iter.as_slice().is_empty() && matches!(self.input, Input::Command | Input::Auth) {
                return Flow::Continue;
            }
        }
    }
}

fn parse_error_reply(e: &ParseError) -> crate::reply::Reply {
    match e {
        ParseError::UnknownCommand => replies::unknown_command(),
        ParseError::InvalidSenderAddress => {
            replies::bad_sender("syntax error in the reverse-path".into())
        }
        ParseError::InvalidRecipientAddress => {
            replies::bad_recipient("syntax error in the forward-path".into())
        }
        ParseError::SyntaxError { syntax } => replies::syntax(format!("Syntax: {syntax}")),
        ParseError::InvalidParameter { param } => {
            replies::syntax(format!("Invalid parameter {param}"))
        }
        ParseError::UnsupportedParameter { param } => {
            crate::reply::Reply::new(555, (5, 5, 4), format!("Unsupported parameter {param}"))
        }
        other => replies::syntax(other.to_string()),
    }
}
