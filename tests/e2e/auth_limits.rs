//! End-to-end: password guessing against the real server from several loopback source
//! addresses (Python's smtplib binds them): the owner is never locked out from elsewhere,
//! and a burst of simultaneous wrong passwords does not run argon2 for each at once.

use mssd_e2e::process::proc_status_kib;
use mssd_e2e::submission_world::{PASSWORD, World, martin, world};

const BIN: &str = env!("CARGO_BIN_EXE_mssd");

/// Runs `attempts` AUTH PLAIN on 587 for `user` with `password`, all at once from each
/// source address in `sources`; prints one reply code per attempt.
fn guesses(
    world: &World,
    sources: &[&str],
    attempts: usize,
    user: &str,
    password: &str,
) -> Vec<String> {
    let script = format!(
        r#"
import smtplib, ssl, threading, sys
ctx = ssl.create_default_context(cafile="{root}")
ctx.check_hostname = False
codes = []
lock = threading.Lock()
def attempt(source):
    try:
        with smtplib.SMTP("127.0.0.1", {port}, local_hostname="poste.test", timeout=120,
                          source_address=(source, 0)) as s:
            s.starttls(context=ctx)
            try:
                s.login("{user}", "{password}")
                code = "235"
            except smtplib.SMTPAuthenticationError as e:
                code = str(e.smtp_code)
            except smtplib.SMTPResponseException as e:
                code = str(e.smtp_code)
    except Exception as e:
        code = "error " + repr(e)
    with lock:
        codes.append(code)
threads = [threading.Thread(target=attempt, args=(source,)) for source in {sources:?} for _ in range({attempts})]
for t in threads: t.start()
for t in threads: t.join()
print("\n".join(codes))
"#,
        root = world.op.pki("root.pem").display(),
        port = world.server.addr("submission").port(),
    );
    mssd_e2e::python::run_python(&script, &[])
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn wrong_passwords_from_one_ip_do_not_lock_the_owner_out_from_another() {
    let world = world(BIN);
    for _ in 0..6 {
        let codes = guesses(&world, &["127.0.0.2"], 1, &martin(), "guess");
        assert!(codes[0] == "535" || codes[0] == "454", "{codes:?}");
    }
    // From the guessing IP, even the right password waits.
    let codes = guesses(&world, &["127.0.0.2"], 1, &martin(), PASSWORD);
    assert_ne!(codes[0], "235", "{codes:?}");
    // From another IP, the owner logs in.
    let codes = guesses(&world, &["127.0.0.3"], 1, &martin(), PASSWORD);
    assert_eq!(codes, ["235"]);
}

/// 64 simultaneous wrong AUTH PLAIN from one IP, then from 4: before, each ran argon2
/// (19 MiB) at once and the server peaked at 1 GB and 3.2 GB. Now attempts beyond the
/// throttle's allowance are refused before verifying and the rest wait for a verifier.
#[test]
fn a_burst_of_wrong_passwords_is_bounded_in_memory() {
    let world = world(BIN);
    let pid = world.server.pid();
    let before = proc_status_kib(pid, "VmHWM");
    let one_ip = guesses(&world, &["127.0.0.2"], 64, &martin(), "guess");
    let after_one = proc_status_kib(pid, "VmHWM");
    let four_ips = guesses(
        &world,
        &["127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6"],
        64,
        &format!("x{}", martin()),
        "guess",
    );
    let after_four = proc_status_kib(pid, "VmHWM");
    eprintln!(
        "VmHWM {before} KiB; after 64 from one IP {after_one} KiB; after 4 x 64 {after_four} KiB"
    );
    for codes in [&one_ip, &four_ips] {
        assert!(codes.iter().all(|c| c == "535" || c == "454"), "{codes:?}");
    }
    let refused_early = one_ip.iter().filter(|c| *c == "454").count();
    assert!(
        refused_early >= 40,
        "only {refused_early} of 64 were held back: {one_ip:?}"
    );
    assert!(
        after_four < before + 300 * 1024,
        "peak grew from {before} to {after_four} KiB"
    );
}

/// A client that has not authenticated repeats refused commands: the audit trail keeps the
/// first lines of each kind from it, then counts instead of writing (it grew by ~2,000 rows
/// a second before).
#[test]
fn refusals_before_authentication_do_not_flood_the_audit_trail() {
    use mssd_e2e::SmtpClient;
    let world = world(BIN);
    let addr = world.server.addr("smtp");
    let mut refused = 0;
    for _ in 0..10 {
        let (mut client, greeting) = SmtpClient::connect(addr);
        assert!(greeting.starts_with("220"), "{greeting}");
        client.command("EHLO flood.test");
        for _ in 0..50 {
            let reply = client.command(&format!("MAIL FROM:<x@{}>", mssd_e2e::submission_world::A));
            if reply.starts_with("530 5.7.0") {
                refused += 1;
            } else {
                break;
            }
        }
    }
    assert!(refused >= 100, "only {refused} refusals were provoked");
    let rows: Vec<serde_json::Value> = mssd_e2e::store::audit(&world.op.data_dir())
        .into_iter()
        .filter(|(kind, _, _)| kind == "smtp.refused")
        .map(|(_, _, detail)| detail)
        .collect();
    assert!(!rows.is_empty(), "the first refusal is written");
    assert!(
        rows.len() <= mssd_auth::refusal_audit::LINES_PER_WINDOW as usize,
        "{} rows for {refused} refusals",
        rows.len()
    );
    assert!(
        rows[0]["reply"]
            .as_str()
            .is_some_and(|r| r.starts_with("530 5.7.0")),
        "{}",
        rows[0]
    );
}
