//! A submission load that outlives its database: sender threads submit messages with unique
//! subjects on port 587 (STARTTLS, AUTH PLAIN as dr.martin, to the secretariat) and record
//! every reply with its time, opening a new session whenever one is lost. What a failover test
//! needs: which messages were acknowledged (250), and what the others were told.

use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::peers::plain;
use crate::submission_world::{A, ORG_PASSWORD, PASSWORD, martin, secretariat};
use crate::{ImapClient, Mssd, Operator, Reply, SmtpClient, tls_client_config};

/// One submission, or one failed attempt to open a session.
#[derive(Clone, Debug)]
pub struct Attempt {
    /// The message's subject; `None` for a session that could not be opened.
    pub subject: Option<String>,
    /// The final reply; empty when the connection failed or was closed without one.
    pub reply: String,
    /// When the reply came.
    pub at: Instant,
    /// How long it took (the session's opening included).
    pub took: Duration,
}

impl Attempt {
    pub fn acknowledged(&self) -> bool {
        self.reply.starts_with("250")
    }
}

/// Sender threads submitting until [`SubmissionLoad::stop`].
pub struct SubmissionLoad {
    stop: Arc<AtomicBool>,
    attempts: Arc<Mutex<Vec<Attempt>>>,
    senders: Vec<JoinHandle<()>>,
}

impl SubmissionLoad {
    /// `senders` threads submitting to `submission` (port 587 of the submission world),
    /// trusting the TLS roots of `tls`.
    pub fn start(
        submission: SocketAddr,
        tls: Arc<rustls::ClientConfig>,
        senders: usize,
    ) -> SubmissionLoad {
        let stop = Arc::new(AtomicBool::new(false));
        let attempts = Arc::new(Mutex::new(Vec::new()));
        let senders = (0..senders)
            .map(|sender| {
                let (tls, stop, attempts) = (tls.clone(), stop.clone(), attempts.clone());
                std::thread::spawn(move || {
                    send_until_stopped(sender, submission, tls, &stop, &attempts)
                })
            })
            .collect();
        SubmissionLoad {
            stop,
            attempts,
            senders,
        }
    }

    /// The subjects acknowledged so far.
    pub fn acknowledged(&self) -> Vec<String> {
        acknowledged(&self.attempts.lock().unwrap())
    }

    /// Stops the senders once their current attempt is over: every attempt made, and how long
    /// the last sender took to stop.
    pub fn stop(self) -> (Vec<Attempt>, Duration) {
        let asked = Instant::now();
        self.stop.store(true, Ordering::Relaxed);
        for sender in self.senders {
            sender.join().expect("a sender thread panicked");
        }
        let attempts = self.attempts.lock().unwrap().clone();
        (attempts, asked.elapsed())
    }
}

/// The subjects of the acknowledged attempts.
pub fn acknowledged(attempts: &[Attempt]) -> Vec<String> {
    attempts
        .iter()
        .filter(|a| a.acknowledged())
        .filter_map(|a| a.subject.clone())
        .collect()
}

fn send_until_stopped(
    sender: usize,
    submission: SocketAddr,
    tls: Arc<rustls::ClientConfig>,
    stop: &AtomicBool,
    attempts: &Mutex<Vec<Attempt>>,
) {
    let record = |subject: Option<String>, reply: String, started: Instant| {
        let at = Instant::now();
        attempts.lock().unwrap().push(Attempt {
            subject,
            reply,
            at,
            took: at - started,
        });
    };
    let mut session: Option<SmtpClient> = None;
    for n in 0.. {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let started = Instant::now();
        let mut client = match session.take() {
            Some(client) => client,
            None => match open_session(submission, tls.clone()) {
                Ok(client) => client,
                Err(reply) => {
                    record(None, reply, started);
                    std::thread::sleep(Duration::from_millis(100));
                    continue;
                }
            },
        };
        let subject = format!("failover-{sender}-{n}");
        // A connection broken mid-message makes the client panic on write: no reply then.
        let reply = catch_unwind(AssertUnwindSafe(|| {
            client.send_message(&martin(), &[&secretariat()], &subject_message(&subject))
        }))
        .unwrap_or_default();
        let acknowledged = reply.starts_with("250");
        let mut usable = !reply.is_empty();
        record(Some(subject), reply, started);
        if !acknowledged {
            // A refusal at MAIL or RCPT leaves the transaction open: reset it (a refusal after
            // DATA already did).
            usable = usable
                && catch_unwind(AssertUnwindSafe(|| client.command("RSET")))
                    .is_ok_and(|r| r.starts_with("250"));
            std::thread::sleep(Duration::from_millis(50));
        }
        if usable {
            session = Some(client);
        }
    }
}

/// Port 587, STARTTLS, AUTH PLAIN as dr.martin; `Err` with the refusal (empty when the
/// connection failed).
fn open_session(
    submission: SocketAddr,
    tls: Arc<rustls::ClientConfig>,
) -> Result<SmtpClient, String> {
    catch_unwind(AssertUnwindSafe(|| {
        let (client, _) = SmtpClient::connect(submission);
        let (mut client, _) = client
            .starttls(&format!("mail.{A}"), tls)
            .map_err(|e| format!("{e:?}"))?;
        let reply = client.command(&format!("AUTH PLAIN {}", plain(&martin(), PASSWORD)));
        if reply.starts_with("235") {
            Ok(client)
        } else {
            Err(reply)
        }
    }))
    .unwrap_or_else(|_| Err(String::new()))
}

/// A message from dr.martin to the secretariat whose subject (and Message-ID) is `subject`.
pub fn subject_message(subject: &str) -> Vec<u8> {
    format!(
        "From: <{from}>\r\nTo: <{to}>\r\nSubject: {subject}\r\nMessage-ID: <{subject}@{A}>\r\n\r\nbody of {subject}\r\n",
        from = martin(),
        to = secretariat()
    )
    .into_bytes()
}

/// The literals of a reply's untagged responses (fetched header fields), as text.
pub fn literals(reply: &Reply) -> String {
    reply
        .untagged
        .iter()
        .flat_map(|u| &u.literals)
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect()
}

/// The subjects of the secretariat's INBOX read over IMAP on `node` (implicit TLS; FETCH
/// BODY.PEEK[HEADER.FIELDS (SUBJECT)] of every message).
pub async fn secretariat_subjects(op: &Operator, node: &Mssd) -> Vec<String> {
    let tls = tls_client_config(&op.pki("root.pem"), None);
    let (mut client, _) = ImapClient::connect_tls(node.addr("imaps"), tls, &format!("mail.{A}"))
        .await
        .expect("IMAP over TLS");
    let login = client.login(&secretariat(), ORG_PASSWORD).await.unwrap();
    assert!(login.is_ok(), "{login:?}");
    let select = client.command("SELECT INBOX").await.unwrap();
    assert!(select.is_ok(), "{select:?}");
    if select.count("EXISTS") == Some(0) {
        return Vec::new();
    }
    let fetch = client
        .command("FETCH 1:* BODY.PEEK[HEADER.FIELDS (SUBJECT)]")
        .await
        .unwrap();
    assert!(fetch.is_ok(), "{}", fetch.describe());
    literals(&fetch)
        .lines()
        .filter_map(|line| line.strip_prefix("Subject: "))
        .map(str::to_owned)
        .collect()
}
