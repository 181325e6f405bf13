//! The rules a new list must pass before it replaces the one in force.

use std::cmp::Ordering;

use crate::error::{Error, Result};
use crate::model::TrustList;

/// Default largest share of the domains in force one refresh may remove.
pub const DEFAULT_MAX_REMOVAL_SHARE: f64 = 0.20;

/// Refresh rules.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RefreshPolicy {
    max_removal_share: f64,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        RefreshPolicy {
            max_removal_share: DEFAULT_MAX_REMOVAL_SHARE,
        }
    }
}

/// How a new list's `DateDeGeneration` compares with the current one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Age {
    Newer,
    Same,
    Older,
}

impl RefreshPolicy {
    /// `max_removal_share` in [0, 1]: the largest fraction of the current domains one refresh
    /// may remove (removing exactly that fraction is accepted).
    pub fn new(max_removal_share: f64) -> Result<RefreshPolicy> {
        if !(0.0..=1.0).contains(&max_removal_share) {
            return Err(Error::Config(format!(
                "max_removal_share must be between 0 and 1, got {max_removal_share}"
            )));
        }
        Ok(RefreshPolicy { max_removal_share })
    }

    pub fn max_removal_share(&self) -> f64 {
        self.max_removal_share
    }

    /// Refuses removing more than the allowed share of `current` domains.
    pub(crate) fn check_removals(&self, removed: usize, current: usize) -> Result<()> {
        // Integers up to 2^53 are exact in f64; the epsilon absorbs the rounding of the product.
        let allowed = self.max_removal_share * current as f64;
        if removed as f64 > allowed + 1e-9 {
            return Err(Error::TooManyRemovals {
                removed,
                current,
                max_share: self.max_removal_share,
            });
        }
        Ok(())
    }
}

/// Compares generation dates; any list is newer than the empty placeholder.
pub(crate) fn age(current: &TrustList, new: &TrustList) -> Age {
    match (current.generated_at(), new.generated_at()) {
        (Some(current), Some(new)) => match new.cmp(&current) {
            Ordering::Greater => Age::Newer,
            Ordering::Equal => Age::Same,
            Ordering::Less => Age::Older,
        },
        (None, _) => Age::Newer,
        (Some(_), None) => Age::Older,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removal_share_table() {
        // (max share, removed, current, accepted)
        let cases = [
            (0.20, 0, 0, true),
            (0.20, 0, 100, true),
            (0.20, 20, 100, true),
            (0.20, 21, 100, false),
            (0.20, 2, 10, true),
            (0.20, 3, 10, false),
            (0.20, 1, 3, false),
            (0.10, 865, 8650, true),
            (0.10, 866, 8650, false),
            (0.30, 3, 10, true),
            (0.70, 7, 10, true),
            (0.0, 1, 8650, false),
            (1.0, 10, 10, true),
        ];
        for (share, removed, current, accepted) in cases {
            let policy = RefreshPolicy::new(share).unwrap();
            let result = policy.check_removals(removed, current);
            assert_eq!(
                result.is_ok(),
                accepted,
                "share {share}, {removed} of {current}: {result:?}"
            );
            if let Err(e) = result {
                assert!(
                    matches!(e, Error::TooManyRemovals { .. })
                        && e.to_string().contains("domains in force"),
                    "{e}"
                );
            }
        }
    }

    #[test]
    fn share_must_be_a_fraction() {
        for share in [-0.1, 1.01, f64::NAN, f64::INFINITY] {
            let err = RefreshPolicy::new(share).unwrap_err();
            assert!(err.to_string().contains("between 0 and 1"), "{err}");
        }
        assert_eq!(RefreshPolicy::default().max_removal_share(), 0.20);
    }
}
