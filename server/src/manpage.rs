//! `mssd manpage DIR` (hidden): writes the man pages of the Debian package from the clap
//! command line itself, so the pages can never disagree with `--help`: `mssd.8`, and one page
//! per subcommand (`mssd-serve.8`, `mssd-mailbox-add.8`…), the names `mssd.8` already refers
//! to. Section 8: mssd is a daemon and its administration tool, installed in /usr/sbin.
//! `packaging/build-deb.sh` runs it before `cargo deb`, then gzips the pages.

use std::path::Path;

use clap::CommandFactory;

use crate::error::{Error, Result};

const SECTION: &str = "8";
const MANUAL: &str = "System Manager's Manual";

/// Writes every page into `dir` (created if missing); returns how many were written.
pub fn write_all(dir: &Path) -> Result<usize> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        what: format!("creating {}", dir.display()),
        source,
    })?;
    // `help` is clap's, not ours: no page for it. build() names the subcommands
    // `mssd-mailbox-add` (display name), as the SUBCOMMANDS sections refer to them.
    let mut cmd = crate::cli::Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut written = 0;
    write_tree(cmd, dir, &mut written)?;
    Ok(written)
}

fn write_tree(cmd: clap::Command, dir: &Path, written: &mut usize) -> Result<()> {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_tree(sub.clone(), dir, written)?;
    }
    let man = clap_mangen::Man::new(cmd).section(SECTION).manual(MANUAL);
    let path = dir.join(man.get_filename());
    let mut page = Vec::new();
    man.render(&mut page).map_err(|source| Error::Io {
        what: format!("rendering {}", path.display()),
        source,
    })?;
    std::fs::write(&path, page).map_err(|source| Error::Io {
        what: format!("writing {}", path.display()),
        source,
    })?;
    *written += 1;
    Ok(())
}
