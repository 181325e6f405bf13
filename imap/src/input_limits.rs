//! Input limits applied before imap-next sees a byte (sans-I/O, resumable across reads).
//!
//! imap-next 0.3.4 has one literal limit and one command limit for the whole connection, fixed
//! when the connection starts, and it answers `+` to any literal under them: a client that
//! has not logged in could make us buffer a 50 MB `LOGIN` literal. This gate follows the
//! command framing itself (lines, and literals announced at their end) and applies limits by
//! phase:
//!
//! - before authentication, lines and literals of a few KiB;
//! - after, command lines of 64 KiB and literals of 64 KiB, except the message literal of
//!   APPEND, up to `max_literal_size`, reserved in a server-wide budget first.
//!
//! A line is held here until its CRLF (never more than the line limit), so an oversized
//! literal is refused before imap-next can invite it.
//!
//! An APPEND literal of more than [`SPOOL_AT`] bytes is not passed to imap-next at all (it
//! decodes a command whole): its announcement is rewritten to the length of a spool token,
//! its bytes come out as [`Step::Spool`] for the session to stream to a blob file, and the
//! token takes their place once they are all in ([`Step::SpoolEnd`]).

use std::sync::atomic::{AtomicU64, Ordering};

/// Lines before authentication (an XOAUTH2 initial response with a token is the longest).
pub const PRE_AUTH_MAX_LINE: usize = 16 * 1024;
/// Literals before authentication (a LOGIN password).
pub const PRE_AUTH_MAX_LITERAL: u64 = 4 * 1024;
/// Literals after authentication, other than APPEND's message.
pub const SMALL_LITERAL: u64 = 64 * 1024;
/// APPEND literals larger than this are streamed to a blob file instead of imap-next.
pub const SPOOL_AT: u64 = mssd_store::SPILL_THRESHOLD as u64;
/// The length of the token that stands for a spooled literal in what imap-next decodes.
pub const SPOOL_TOKEN_LEN: usize = 48;

/// What the gate does with bytes of input, in order.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Pass these bytes to the protocol state machine.
    Forward(Vec<u8>),
    /// A synchronizing literal over the limit: the line was dropped; answer a tagged BAD
    /// (or NO [LIMIT] when `budget`) and go on with the next line.
    RefuseLiteral {
        tag: Option<String>,
        size: u64,
        limit: u64,
        budget: bool,
    },
    /// The stream cannot be resynchronised (a line over the limit, a non-synchronizing
    /// literal over it): say BYE and close.
    Close {
        reason: &'static str,
    },
    /// A large APPEND literal of `size` bytes begins: its bytes follow as `Spool` steps
    /// (imap-next was told a literal of [`SPOOL_TOKEN_LEN`] bytes instead).
    SpoolStart {
        size: u64,
    },
    Spool(Vec<u8>),
    /// The spooled literal is complete: pass imap-next the token that stands for it.
    SpoolEnd,
    /// A whole command line (no literal) of an extension imap-codec has no grammar for (ACL,
    /// RFC 4314; LIST-EXTENDED, RFC 5258), after authentication: the session parses and
    /// answers it itself.
    Extension(Vec<u8>),
    /// MULTIAPPEND (RFC 3502): the APPEND just forwarded (command `tag`) is followed by another
    /// message of the same command. imap-codec reads one message per APPEND, so the gate ends
    /// the command after each message and starts the next as `tag APPEND <continuation
    /// mailbox> …` (see [`InputGate::set_continuation_mailbox`]); the session puts the
    /// messages back together and stores them at once.
    AppendMore {
        tag: String,
    },
    /// The SEARCH that follows (command `tag`) asked for ESEARCH results with these options,
    /// taken off its line (see `search_return`).
    SearchReturn {
        tag: String,
        options: Vec<crate::search_return::ReturnOption>,
    },
    /// The command that follows (`tag`) had `$` (SEARCHRES) written as
    /// [`crate::search_return::SAVED_RESULT`]. Without this marker that number is a number:
    /// a client that sends 4294967295 itself does not get the saved result.
    SavedResult {
        tag: String,
    },
}

/// Commands the session parses itself (see [`Step::Extension`]).
pub const EXTENSION_COMMANDS: [&str; 5] =
    ["MYRIGHTS", "GETACL", "LISTRIGHTS", "SETACL", "DELETEACL"];

/// Bytes of large literals reserved by all connections together.
#[derive(Debug)]
pub struct LiteralBudget {
    limit: u64,
    used: AtomicU64,
}

impl LiteralBudget {
    pub fn new(limit: u64) -> LiteralBudget {
        LiteralBudget {
            limit,
            used: AtomicU64::new(0),
        }
    }

    fn try_reserve(&self, bytes: u64) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes).filter(|&total| total <= self.limit)
            })
            .is_ok()
    }

    pub fn release(&self, bytes: u64) {
        let _ = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                Some(used.saturating_sub(bytes))
            });
    }

    pub fn in_use(&self) -> u64 {
        self.used.load(Ordering::Acquire)
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_line: usize,
    pub max_literal: u64,
    /// The largest APPEND message literal once authenticated.
    pub max_append_literal: u64,
}

/// Where the gate is in the input.
#[derive(Debug)]
enum Position {
    /// Collecting a line; `continues_append` when it continues an APPEND after a literal.
    Line { continues_append: bool },
    /// Inside a literal: this many bytes to pass through (or to spool).
    Literal {
        remaining: u64,
        append: bool,
        spooled: bool,
    },
    /// Refused for good: the connection is being closed.
    Closed,
}

#[derive(Debug)]
pub struct InputGate {
    authenticated: bool,
    max_line_after_auth: usize,
    max_append_literal: u64,
    line: Vec<u8>,
    position: Position,
    /// Bytes of the budget this connection holds for the command in progress.
    reserved: u64,
    /// The tag of the APPEND in progress (MULTIAPPEND continues it).
    append_tag: Option<String>,
    /// A SEARCH, SORT or THREAD whose line ended with a literal: its tag, what the line after
    /// the literal inherits, and whether its `$` was already announced (SearchRes).
    search_continues: Option<(String, crate::search_return::SearchContinuation, bool)>,
    /// The APPEND in progress names its mailbox in a literal: the line after that literal
    /// continues the first message, it does not start another.
    append_mailbox_literal: bool,
    /// The mailbox name of the APPENDs that continue a MULTIAPPEND.
    continuation_mailbox: String,
}

/// The continuation mailbox name until the connection sets its own.
pub const CONTINUATION_MAILBOX: &str = "x-mssd-continued";

impl InputGate {
    pub fn new(max_line_after_auth: usize, max_append_literal: u64) -> InputGate {
        InputGate {
            authenticated: false,
            max_line_after_auth,
            max_append_literal,
            line: Vec::new(),
            position: Position::Line {
                continues_append: false,
            },
            reserved: 0,
            append_tag: None,
            search_continues: None,
            append_mailbox_literal: false,
            continuation_mailbox: CONTINUATION_MAILBOX.to_owned(),
        }
    }

    /// The mailbox argument the gate gives the further messages of a MULTIAPPEND: an atom
    /// the client cannot guess (the connection adds a secret to it), so that such an APPEND
    /// is told apart from one the client sent, even when an earlier part was refused.
    pub fn set_continuation_mailbox(&mut self, name: String) {
        self.continuation_mailbox = name;
    }

    pub fn continuation_mailbox(&self) -> &str {
        &self.continuation_mailbox
    }

    /// From now on, the limits after authentication apply.
    pub fn authenticated(&mut self) {
        self.authenticated = true;
    }

    pub fn limits(&self) -> Limits {
        if self.authenticated {
            Limits {
                max_line: self.max_line_after_auth,
                max_literal: SMALL_LITERAL,
                max_append_literal: self.max_append_literal,
            }
        } else {
            Limits {
                max_line: PRE_AUTH_MAX_LINE,
                max_literal: PRE_AUTH_MAX_LITERAL,
                max_append_literal: PRE_AUTH_MAX_LITERAL,
            }
        }
    }

    /// Forgets a line not yet complete (input pipelined where the protocol forbids it).
    pub fn discard_partial_line(&mut self) {
        if matches!(self.position, Position::Line { .. }) {
            self.line = Vec::new();
            self.position = Position::Line {
                continues_append: false,
            };
        }
    }

    /// The budget this connection holds, handed back once its command was decoded.
    pub fn take_reserved(&mut self) -> u64 {
        std::mem::take(&mut self.reserved)
    }

    /// Runs `input` through the gate.
    pub fn push(&mut self, mut input: &[u8], budget: &LiteralBudget) -> Vec<Step> {
        let mut steps = Vec::new();
        let mut forward = Vec::new();
        while !input.is_empty() {
            match self.position {
                Position::Closed => return steps,
                Position::Literal {
                    remaining,
                    append,
                    spooled,
                } => {
                    let n = usize::try_from(remaining)
                        .unwrap_or(usize::MAX)
                        .min(input.len());
                    if spooled {
                        steps.push(Step::Spool(input[..n].to_vec()));
                    } else {
                        forward.extend_from_slice(&input[..n]);
                    }
                    input = &input[n..];
                    let remaining = remaining - n as u64;
                    if remaining == 0 && spooled {
                        steps.push(Step::SpoolEnd);
                    }
                    self.position = match remaining {
                        0 => Position::Line {
                            continues_append: append,
                        },
                        _ => Position::Literal {
                            remaining,
                            append,
                            spooled,
                        },
                    };
                }
                Position::Line { continues_append } => {
                    let limits = self.limits();
                    let end = input.iter().position(|&b| b == b'\n');
                    let take = end.map_or(input.len(), |i| i + 1);
                    if self.line.len() + take > limits.max_line {
                        flush(&mut forward, &mut steps);
                        steps.push(Step::Close {
                            reason: "command line too long",
                        });
                        self.position = Position::Closed;
                        self.line = Vec::new();
                        return steps;
                    }
                    self.line.extend_from_slice(&input[..take]);
                    input = &input[take..];
                    if end.is_none() {
                        continue;
                    }
                    let mut line = std::mem::take(&mut self.line);
                    if self.authenticated
                        && !continues_append
                        && let Some((tag, options, rest)) =
                            crate::search_return::split_return(&line)
                    {
                        flush(&mut forward, &mut steps);
                        steps.push(Step::SearchReturn { tag, options });
                        line = rest;
                    }
                    let mut next_search = None;
                    let carried = self.search_continues.take();
                    if self.authenticated && !continues_append {
                        let (substituted, tag, carry, marked) = match carried {
                            Some((tag, carry, marked)) => {
                                let (substituted, carry) =
                                    crate::search_return::substitute_in_continuation(&line, carry);
                                (substituted, Some(tag), Some(carry), marked)
                            }
                            None => {
                                let (substituted, carry) =
                                    crate::search_return::substitute_in_command(&line);
                                (substituted, tag_of(&line), carry, false)
                            }
                        };
                        let mut marked = marked;
                        if let (Some(substituted), Some(tag)) = (substituted, &tag) {
                            if !marked {
                                flush(&mut forward, &mut steps);
                                steps.push(Step::SavedResult { tag: tag.clone() });
                                marked = true;
                            }
                            line = substituted;
                        }
                        next_search = tag.zip(carry).map(|(tag, carry)| (tag, carry, marked));
                    }
                    // MULTIAPPEND: after a message, another one rather than the end of line.
                    let after_mailbox = std::mem::take(&mut self.append_mailbox_literal);
                    let next_message = continues_append
                        && !after_mailbox
                        && line.first() == Some(&b' ')
                        && literal_announcement(&line).is_some();
                    if !continues_append && is_append(&line) {
                        self.append_tag = tag_of(&line);
                        self.append_mailbox_literal = mailbox_is_literal(&line);
                    }
                    let tag = self.append_tag.clone().filter(|_| next_message);
                    if let Some(tag) = &tag {
                        forward.extend_from_slice(b"\r\n");
                        flush(&mut forward, &mut steps);
                        steps.push(Step::AppendMore { tag: tag.clone() });
                        let mut next =
                            format!("{tag} APPEND {}", self.continuation_mailbox).into_bytes();
                        next.extend_from_slice(&line);
                        line = next;
                    }
                    let continues_append = continues_append && tag.is_none();
                    let append = continues_append || is_append(&line);
                    match literal_announcement(&line) {
                        None if self.authenticated && !continues_append && is_extension(&line) => {
                            flush(&mut forward, &mut steps);
                            steps.push(Step::Extension(line));
                            self.position = Position::Line {
                                continues_append: false,
                            };
                        }
                        None => {
                            forward.extend_from_slice(&line);
                            self.position = Position::Line {
                                continues_append: false,
                            };
                        }
                        Some((size, sync)) => match self.admit(size, append, &limits, budget) {
                            Ok(()) => {
                                // The line after the literal goes on with the same search.
                                self.search_continues = next_search.take();
                                let spooled = append && size > SPOOL_AT;
                                if spooled {
                                    forward.extend_from_slice(&announcing_token(&line));
                                    flush(&mut forward, &mut steps);
                                    steps.push(Step::SpoolStart { size });
                                } else {
                                    forward.extend_from_slice(&line);
                                }
                                self.position = match size {
                                    0 => Position::Line {
                                        continues_append: append,
                                    },
                                    _ => Position::Literal {
                                        remaining: size,
                                        append,
                                        spooled,
                                    },
                                };
                            }
                            Err((limit, from_budget)) => {
                                flush(&mut forward, &mut steps);
                                if !sync {
                                    steps.push(Step::Close {
                                        reason: "non-synchronizing literal too large",
                                    });
                                    self.position = Position::Closed;
                                    return steps;
                                }
                                steps.push(Step::RefuseLiteral {
                                    tag: if continues_append {
                                        None
                                    } else {
                                        tag_of(&line)
                                    },
                                    size,
                                    limit,
                                    budget: from_budget,
                                });
                                self.position = Position::Line {
                                    continues_append: false,
                                };
                            }
                        },
                    }
                }
            }
        }
        flush(&mut forward, &mut steps);
        steps
    }

    /// Whether a literal of `size` may come; Err gives the limit and whether the server-wide
    /// budget (rather than the size limit) refused it.
    fn admit(
        &mut self,
        size: u64,
        append: bool,
        limits: &Limits,
        budget: &LiteralBudget,
    ) -> Result<(), (u64, bool)> {
        let limit = if append {
            limits.max_append_literal.max(limits.max_literal)
        } else {
            limits.max_literal
        };
        if size > limit {
            return Err((limit, false));
        }
        if size > SMALL_LITERAL {
            if !budget.try_reserve(size) {
                return Err((limit, true));
            }
            self.reserved += size;
        }
        Ok(())
    }
}

fn flush(forward: &mut Vec<u8>, steps: &mut Vec<Step>) {
    if !forward.is_empty() {
        steps.push(Step::Forward(std::mem::take(forward)));
    }
}

/// `{N}` or `{N+}` (LITERAL+) ending a line (before CRLF): the size and whether it is
/// synchronizing. Binary literals `~{N}` (RFC 3516) end the same way.
pub fn literal_announcement(line: &[u8]) -> Option<(u64, bool)> {
    let line = line.strip_suffix(b"\n")?;
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let inner = line.strip_suffix(b"}")?;
    let open = inner.iter().rposition(|&b| b == b'{')?;
    let digits = &inner[open + 1..];
    let (digits, sync) = match digits.strip_suffix(b"+") {
        Some(d) => (d, false),
        None => (digits, true),
    };
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits)
        .ok()?
        .parse::<u64>()
        .ok()
        .map(|n| (n, sync))
}

/// `line` (ending in a literal announcement) announcing [`SPOOL_TOKEN_LEN`] bytes instead,
/// synchronizing or not as it was.
fn announcing_token(line: &[u8]) -> Vec<u8> {
    let open = line.iter().rposition(|&b| b == b'{').unwrap_or(line.len());
    let sync = !line[open..].contains(&b'+');
    let mut out = line[..open].to_vec();
    let plus = if sync { "" } else { "+" };
    out.extend_from_slice(format!("{{{SPOOL_TOKEN_LEN}{plus}}}\r\n").as_bytes());
    out
}

/// The tag of a command line, when it looks like one.
pub fn tag_of(line: &[u8]) -> Option<String> {
    let end = line.iter().position(|&b| b == b' ')?;
    let tag = &line[..end];
    let valid = !tag.is_empty()
        && tag
            .iter()
            .all(|&b| b.is_ascii_graphic() && !b"(){%*\"\\+".contains(&b));
    valid.then(|| String::from_utf8_lossy(tag).into_owned())
}

/// `tag COMMAND …` for one of [`EXTENSION_COMMANDS`], or an extended LIST.
fn is_extension(line: &[u8]) -> bool {
    if crate::list_extended::is_extended(line) {
        return true;
    }
    let mut words = line.split(|&b| b == b' ' || b == b'\r' || b == b'\n');
    let _tag = words.next();
    words.next().is_some_and(|command| {
        EXTENSION_COMMANDS
            .iter()
            .any(|name| command.eq_ignore_ascii_case(name.as_bytes()))
    })
}

/// `tag APPEND {n}`: the mailbox name comes in a literal.
fn mailbox_is_literal(line: &[u8]) -> bool {
    let mut words = line.splitn(3, |&b| b == b' ');
    let (_tag, _append) = (words.next(), words.next());
    words.next().is_some_and(|rest| rest.first() == Some(&b'{'))
}

/// `tag APPEND …`: the command whose last literal is a message.
fn is_append(line: &[u8]) -> bool {
    let mut words = line.split(|&b| b == b' ');
    let _tag = words.next();
    words
        .next()
        .is_some_and(|command| command.eq_ignore_ascii_case(b"APPEND"))
}
