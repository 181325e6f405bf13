//! Python's standard library as an independent client (smtplib, imaplib): runs a script and
//! returns what it printed, failing the test with its standard error when it fails.

use std::process::Command;

/// Runs `python3 -c script args…`; panics with stderr unless it exits with 0.
pub fn run_python(script: &str, args: &[&str]) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "python: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
