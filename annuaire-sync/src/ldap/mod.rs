//! Sync with the operator's LDAP directory (OpenLDAP, Active Directory...), over LDAPS or
//! StartTLS validated with the configured anchors only.
//!
//! - [`LdapSync`]: full (paged) and incremental (`modifyTimestamp`) syncs into a
//!   [`Mirror`] saved in the store, so an outage keeps the last good data. Deletions are
//!   only seen by full syncs: schedule one periodically.
//! - [`provision`]: mailboxes for new entries of our domains, suspension of the ones whose
//!   entry disappeared, ORG membership grants from groups; audited as `ldap.provision.*`.
//! - [`LdapPasswordVerifier`]: password checks by LDAP bind, for `Authenticator`.

mod bind;
mod config;
mod connect;
mod entry;
mod mirror;
mod provision;
mod provision_plan;
mod sync;

pub use bind::LdapPasswordVerifier;
pub use config::{AttributeMap, DEFAULT_FILTER, DEFAULT_GROUP_FILTER, GroupMapping, LdapConfig};
pub use entry::{EntryWarning, MirrorEntry};
pub use mirror::{MIRROR_DOCUMENT, Mirror, MirrorGroup};
pub use provision::{AUDIT_ACTOR, ProvisionConfig, ProvisionReport, load_state, provision};
pub use provision_plan::{PROVISION_STATE_DOCUMENT, ProvisionPlan, ProvisionState, ToCreate, plan};
pub use sync::{LdapSync, SyncMode, SyncReport, incremental_filter};
