//! Shared by the IMAP session targets: client bytes go through mssd's input gate (limits by
//! phase) into imap-next's server state machine, as `imap/src/session/wire.rs` does; every
//! decoded command goes through the pure helpers its handler uses (sequence sets, SEARCH).

use imap_next::imap_types::command::CommandBody;
use imap_next::imap_types::response::{Greeting, GreetingKind};
use imap_next::server::{Event, Options, Server};
use imap_next::{Interrupt, Io, State};
use mssd_imap::input_limits::{InputGate, LiteralBudget, SPOOL_TOKEN_LEN, Step};
use mssd_imap::search::{SearchScope, matches};
use mssd_store::MessageMeta;

const MESSAGE: &[u8] =
    b"From: A <a@x.mssante.fr>\r\nTo: b@y.mssante.fr\r\nSubject: hello\r\n\r\nbody\r\n";
const UIDS: [u32; 5] = [3, 4, 9, 10, 200];

pub fn run(data: &[u8], authenticated: bool) {
    let mut options = Options::default();
    options.max_literal_size = 1 << 20;
    options.max_command_size = (1 << 20) + (64 << 10);
    let greeting = Greeting::new(GreetingKind::Ok, None, "fuzz").expect("greeting");
    let mut server = Server::new(options, greeting);
    let mut gate = InputGate::new(64 * 1024, 1 << 20);
    if authenticated {
        gate.authenticated();
    }
    let budget = LiteralBudget::new(4 << 20);
    // Feed in pieces, as reads would arrive.
    for chunk in data.chunks(97) {
        for step in gate.push(chunk, &budget) {
            match step {
                Step::Forward(bytes) => server.enqueue_input(&bytes),
                Step::RefuseLiteral { .. } => {}
                Step::Close { .. } => return,
                // As the session does: the spooled bytes leave, a token of the announced
                // length takes their place.
                Step::SpoolStart { .. } | Step::Spool(_) => {}
                Step::SpoolEnd => server.enqueue_input(&[b'x'; SPOOL_TOKEN_LEN]),
                // The session parses these lines itself; imap-next sees an ID in their place.
                Step::Extension(_) => server.enqueue_input(b"x ID NIL\r\n"),
                Step::SearchReturn { .. } | Step::AppendMore { .. } | Step::SavedResult { .. } => {}
            }
        }
        if !drain(&mut server) {
            return;
        }
        budget.release(gate.take_reserved());
    }
}

/// Runs the state machine until it needs input; false when the connection would close.
fn drain(server: &mut Server) -> bool {
    for _ in 0..10_000 {
        match server.next() {
            Ok(Event::CommandReceived { command }) => handle(&command.body),
            Ok(Event::IdleCommandReceived { .. }) => {
                let _ = server.idle_accept(
                    imap_next::imap_types::response::CommandContinuationRequest::basic(
                        None, "idling",
                    )
                    .expect("text"),
                );
            }
            Ok(_) => {}
            Err(Interrupt::Io(Io::Output(_))) => {}
            Err(Interrupt::Io(Io::NeedMoreInput)) => return true,
            Err(Interrupt::Error(_)) => {}
        }
    }
    true
}

fn handle(body: &CommandBody<'_>) {
    match body {
        CommandBody::Fetch {
            sequence_set, uid, ..
        }
        | CommandBody::Store {
            sequence_set, uid, ..
        }
        | CommandBody::Copy {
            sequence_set, uid, ..
        }
        | CommandBody::Move {
            sequence_set, uid, ..
        } => {
            let _ = mssd_imap::sequence::resolve(sequence_set, &UIDS, *uid);
        }
        CommandBody::Search { criteria, uid, .. } => {
            let scope = SearchScope {
                uids: &UIDS,
                recent: &UIDS[3..],
            };
            let meta = MessageMeta {
                uid: UIDS[0],
                modseq: 1,
                flags: vec!["\\Seen".into()],
                size: MESSAGE.len() as u64,
                internal_date: 0,
                sha256: String::new(),
            };
            let _ = uid;
            let criteria = criteria.as_ref();
            let _ = matches(criteria, &scope, 0, &meta, Some(MESSAGE));
        }
        _ => {}
    }
}
