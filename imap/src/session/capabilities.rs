//! What the server announces, by connection phase (RFC 9051 7.2.2): STARTTLS and
//! LOGINDISABLED before TLS, the SASL mechanisms once TLS is up, the rest after login.

use imap_next::imap_types::auth::AuthMechanism;
use imap_next::imap_types::core::{Atom, Vec1};
use imap_next::imap_types::extensions::compress::CompressionAlgorithm;
use imap_next::imap_types::extensions::quota::Resource;
use imap_next::imap_types::extensions::sort::SortAlgorithm;
use imap_next::imap_types::extensions::thread::ThreadingAlgorithm;
use imap_next::imap_types::response::Capability;
use mssd_auth::Mechanism;

/// Where the connection stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Clear text: authentication impossible until STARTTLS.
    Plain,
    /// TLS up, not logged in: these mechanisms may be used.
    Tls(Vec<Mechanism>),
    Authenticated,
}

/// Extensions offered in every phase.
fn extensions() -> Vec<Capability<'static>> {
    let mut caps = vec![
        Capability::Imap4Rev1,
        // RFC 9051, once the client sends ENABLE IMAP4rev2.
        Capability::from(Atom::unvalidated("IMAP4rev2")),
        Capability::SaslIr,
        Capability::LiteralPlus,
        Capability::Enable,
        Capability::Id,
        Capability::Idle,
        Capability::Namespace,
        Capability::UidPlus,
        Capability::Move,
        Capability::Unselect,
        Capability::CondStore,
        Capability::QResync,
        // RFC 3516: FETCH BINARY[] / BINARY.SIZE[] and APPEND of ~{…} literals.
        Capability::Binary,
        Capability::Quota,
        Capability::QuotaRes(Resource::Storage),
        // RFC 5256 and RFC 5957 (DISPLAYFROM, DISPLAYTO).
        Capability::Sort(None),
        Capability::Sort(Some(SortAlgorithm::Display)),
        Capability::Thread(ThreadingAlgorithm::OrderedSubject),
        Capability::Thread(ThreadingAlgorithm::References),
    ];
    caps.extend(
        // RFC 4314: ACL, with the rights t, e, x and k. RFC 5258 and RFC 5819: extended LIST
        // with STATUS. RFC 5267 ESORT, RFC 5182 SEARCHRES, RFC 3502 MULTIAPPEND.
        [
            "SPECIAL-USE",
            "CHILDREN",
            "ACL",
            "RIGHTS=texk",
            "ESEARCH",
            "LIST-EXTENDED",
            "LIST-STATUS",
            "ESORT",
            "SEARCHRES",
            "MULTIAPPEND",
            "STATUS=SIZE",
        ]
        .into_iter()
        .filter_map(|name| Atom::try_from(name).ok().map(Capability::from)),
    );
    caps
}

pub(crate) fn capabilities(phase: Phase) -> Vec1<Capability<'static>> {
    let mut caps = extensions();
    match phase {
        Phase::Plain => {
            caps.push(Capability::StartTls);
            caps.push(Capability::LoginDisabled);
        }
        Phase::Tls(mechanisms) => {
            caps.extend(
                mechanisms
                    .iter()
                    .filter_map(|m| auth_mechanism(*m))
                    .map(Capability::Auth),
            );
            if !mechanisms
                .iter()
                .any(|m| matches!(m, Mechanism::Plain | Mechanism::Login))
            {
                caps.push(Capability::LoginDisabled);
            }
        }
        // RFC 4978: only valid once authenticated.
        Phase::Authenticated => caps.push(Capability::Compress {
            algorithm: CompressionAlgorithm::Deflate,
        }),
    }
    Vec1::unvalidated(caps)
}

/// None only if imap-types refused a mechanism name (then it is not advertised).
fn auth_mechanism(m: Mechanism) -> Option<AuthMechanism<'static>> {
    match m {
        Mechanism::Plain => Some(AuthMechanism::Plain),
        Mechanism::Login => Some(AuthMechanism::Login),
        Mechanism::OauthBearer => Some(AuthMechanism::OAuthBearer),
        Mechanism::Xoauth2 => Some(AuthMechanism::XOAuth2),
        other => AuthMechanism::try_from(other.as_str().to_owned()).ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(phase: Phase) -> Vec<String> {
        capabilities(phase)
            .into_iter()
            .map(|c| c.to_string())
            .collect()
    }

    #[test]
    fn phases_announce_what_they_allow() {
        let plain = names(Phase::Plain);
        assert!(plain.contains(&"STARTTLS".into()));
        assert!(plain.contains(&"LOGINDISABLED".into()));
        assert!(!plain.iter().any(|c| c.starts_with("AUTH=")));

        let tls = names(Phase::Tls(vec![Mechanism::External, Mechanism::Plain]));
        assert!(tls.contains(&"AUTH=EXTERNAL".into()), "{tls:?}");
        assert!(tls.contains(&"AUTH=PLAIN".into()));
        assert!(!tls.contains(&"STARTTLS".into()));
        assert!(!tls.contains(&"LOGINDISABLED".into()));

        let tokens_only = names(Phase::Tls(vec![Mechanism::Xoauth2]));
        assert!(tokens_only.contains(&"LOGINDISABLED".into()));

        let user = names(Phase::Authenticated);
        for expected in [
            "IMAP4REV1",
            "IDLE",
            "MOVE",
            "UIDPLUS",
            "CONDSTORE",
            "QUOTA",
            "SPECIAL-USE",
        ] {
            assert!(
                user.iter().any(|c| c.eq_ignore_ascii_case(expected)),
                "{expected} missing from {user:?}"
            );
        }
        assert!(!user.iter().any(|c| c.starts_with("AUTH=")));
    }
}
