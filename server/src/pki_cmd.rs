//! `mssd pki init`: a test hierarchy imitating IGC-Santé, for tests and demonstrations.

use std::path::Path;

use crate::error::Result;

pub fn init(dir: &Path, domain: &str, force: bool, ca: Option<&Path>) -> Result<()> {
    let domain = mssd_core::normalize_domain(domain)?;
    let pki = mssd_certs::init_pki_from(dir, &domain, force, ca)?;
    println!(
        "wrote a TEST PKI imitating IGC-Santé in {} (not for production):",
        dir.display()
    );
    for (what, path) in pki.files() {
        println!("  {what:<26} {}", path.display());
    }
    println!("server subject DN:   {}", pki.server_subject);
    println!("applicative DN:      {}", pki.app_subject);
    println!("personal DN:         {}", pki.personal_subject);
    Ok(())
}
