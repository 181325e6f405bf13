//! End-to-end: the data directory, the database and the keys are owner-only. `serve`
//! tightens looser modes at start and says so; `doctor` fails on them; `pki init` creates
//! its folder 0700.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use mssd_e2e::Operator;

const BIN: &str = env!("CARGO_BIN_EXE_mssd");
const DOMAIN: &str = "modes.test.mssante.fr";

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn loose_modes_fail_doctor_and_are_tightened_by_serve() {
    let op = Operator::new(BIN, DOMAIN);
    let data = op.data_dir();
    let database = data.join("mssd.sqlite3");
    let key = op.pki("server.key");
    assert_eq!(
        mode(&op.pki("")),
        0o700,
        "pki init makes its folder owner-only"
    );
    assert_eq!(mode(&key), 0o600);
    // A first start creates the database owner-only.
    let server = op.start();
    let (status, _) = server.terminate(Duration::from_secs(20));
    assert!(status.success());
    assert_eq!(mode(&database), 0o600);

    // As an operator's copy or an old version could leave them.
    set_mode(&data, 0o755);
    set_mode(&database, 0o644);
    set_mode(&key, 0o644);
    let doctor = op.cli(&["doctor"], None);
    assert_eq!(doctor.status.code(), Some(1), "{}", doctor.stdout);
    for path in [&data, &database, &key] {
        assert!(
            doctor
                .stdout
                .contains(&format!("FAIL  files: {}", path.display())),
            "{}",
            doctor.stdout
        );
    }

    let server = op.start();
    let said = server.stdout.join("\n");
    assert!(
        said.contains(&format!("mssd: tightened {} is 0755", data.display())),
        "{said}"
    );
    assert!(said.contains("is 0644, should be 0600"), "{said}");
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&database), 0o600);
    assert_eq!(mode(&key), 0o600);
    let (status, _) = server.terminate(Duration::from_secs(20));
    assert!(status.success());
    let doctor = op.cli(&["doctor"], None);
    assert!(
        doctor
            .stdout
            .contains("ok    files: data dir, database and private keys are owner-only"),
        "{}",
        doctor.stdout
    );
}
