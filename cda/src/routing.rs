//! Routing of XDM messages to the mailboxes that integrate documents (an establishment's
//! integration platform, "PFI"): rules match recipients by address pattern and, optionally,
//! document codes. Pure: the SMTP session applies the plan.

use mssd_core::Address;

/// What a matching rule does to a recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteAction {
    /// The recipient and the target both receive the message.
    Copy,
    /// Only the target receives it.
    Redirect,
}

impl RouteAction {
    pub fn as_str(self) -> &'static str {
        match self {
            RouteAction::Copy => "copy",
            RouteAction::Redirect => "redirect",
        }
    }
}

/// One `[[cda.routes]]` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Address patterns; `*` matches any run of characters (`*@hopital-a.mssante.fr`).
    pub mailboxes: Vec<String>,
    /// Document codes that trigger the rule; empty: any XDM message.
    pub codes: Vec<String>,
    pub action: RouteAction,
    pub to: Address,
}

impl Route {
    /// Whether the rule applies to `recipient` for a message with documents `codes`.
    pub fn matches(&self, recipient: &Address, codes: &[&str]) -> bool {
        let address = recipient.to_string().to_ascii_lowercase();
        self.mailboxes
            .iter()
            .any(|p| glob(&p.to_ascii_lowercase(), &address))
            && (self.codes.is_empty() || codes.iter().any(|c| self.codes.iter().any(|r| r == c)))
    }
}

/// One routing decision, for the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub recipient: Address,
    pub action: RouteAction,
    pub to: Address,
}

/// The recipients after routing (in order, each once) and the decisions taken. The first
/// rule matching a recipient applies; a target is never routed again.
pub fn plan(
    routes: &[Route],
    recipients: &[Address],
    codes: &[&str],
) -> (Vec<Address>, Vec<Decision>) {
    let mut out: Vec<Address> = Vec::with_capacity(recipients.len() + 1);
    let mut decisions = Vec::new();
    let push = |out: &mut Vec<Address>, a: &Address| {
        if !out.iter().any(|o| o.canonical() == a.canonical()) {
            out.push(a.clone());
        }
    };
    for r in recipients {
        // A target is never routed to itself.
        let rule = routes
            .iter()
            .find(|route| route.to.canonical() != r.canonical() && route.matches(r, codes));
        match rule {
            None => push(&mut out, r),
            Some(route) => {
                if route.action == RouteAction::Copy {
                    push(&mut out, r);
                }
                push(&mut out, &route.to);
                decisions.push(Decision {
                    recipient: r.clone(),
                    action: route.action,
                    to: route.to.clone(),
                });
            }
        }
    }
    (out, decisions)
}

/// `*` matches any run of characters; everything else matches itself.
fn glob(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Address {
        Address::parse(s).unwrap()
    }

    #[test]
    fn globs() {
        let cases = [
            ("*@hopital-a.mssante.fr", "dr@hopital-a.mssante.fr", true),
            ("*@hopital-a.mssante.fr", "dr@hopital-b.mssante.fr", false),
            ("dr-x@h.fr", "dr-x@h.fr", true),
            ("dr-x@h.fr", "dr-xy@h.fr", false),
            ("*", "anything@x", true),
            ("dr*@*.fr", "dr.a@h.fr", true),
            ("dr*@*.fr", "a.dr@h.fr", false),
            ("*a*a", "aa", true),
            ("*a*a", "a", false),
        ];
        for (p, t, expected) in cases {
            assert_eq!(glob(p, t), expected, "{p} ~ {t}");
        }
    }

    #[test]
    fn copy_redirect_and_codes() {
        let routes = vec![
            Route {
                mailboxes: vec!["radio@h.fr".into()],
                codes: vec!["18748-4".into()],
                action: RouteAction::Redirect,
                to: a("pfi@h.fr"),
            },
            Route {
                mailboxes: vec!["*@h.fr".into()],
                codes: vec![],
                action: RouteAction::Copy,
                to: a("pfi@h.fr"),
            },
        ];
        let (to, decisions) = plan(
            &routes,
            &[a("radio@h.fr"), a("dr@h.fr"), a("x@other.fr")],
            &["18748-4"],
        );
        assert_eq!(to, [a("pfi@h.fr"), a("dr@h.fr"), a("x@other.fr")]);
        assert_eq!(decisions.len(), 2);
        assert_eq!(decisions[0].action, RouteAction::Redirect);
        // Another code: the first rule does not apply, the copy rule does.
        let (to, _) = plan(&routes, &[a("radio@h.fr")], &["11502-2"]);
        assert_eq!(to, [a("radio@h.fr"), a("pfi@h.fr")]);
    }
}
