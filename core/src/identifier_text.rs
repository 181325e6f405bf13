//! Shared plumbing of the national identifiers: format checks and the text impls.
//!
//! Every identifier type keeps its idNat form (its one-character idNat prefix followed by
//! the value), so both the bare value and the idNat_PS/idNat_Struct text can be borrowed.

/// Checks that `s` is exactly `len` ASCII digits; the error says what is wrong.
pub(crate) fn expect_digits(s: &str, len: usize, what: &str) -> Result<(), String> {
    let count = s.chars().count();
    if count != len {
        return Err(format!(
            "{what} must be {len} digits, got {count} characters"
        ));
    }
    expect_only_digits(s, what)
}

/// Checks that every character of `s` is an ASCII digit.
pub(crate) fn expect_only_digits(s: &str, what: &str) -> Result<(), String> {
    match s.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
        Some((index, c)) => Err(format!(
            "{what} must contain only digits, found {c:?} at position {}",
            index + 1
        )),
        None => Ok(()),
    }
}

/// Implements `as_str`, `id_nat`, `Debug`, `Display`, `FromStr` and serde for an
/// identifier newtype `$ty { id_nat: String }` whose `parse` validates.
macro_rules! identifier_text {
    ($ty:ident, $expecting:literal) => {
        impl $ty {
            /// The identifier itself, without any idNat prefix.
            pub fn as_str(&self) -> &str {
                // The first character is the ASCII idNat prefix.
                &self.id_nat[1..]
            }

            /// The identifier with its idNat prefix.
            pub(crate) fn id_nat(&self) -> &str {
                &self.id_nat
            }
        }

        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_tuple(stringify!($ty))
                    .field(&self.as_str())
                    .finish()
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $ty {
            type Err = $crate::error::Error;
            fn from_str(s: &str) -> $crate::error::Result<Self> {
                $ty::parse(s)
            }
        }

        $crate::serde_string::serde_as_string!($ty, $expecting, $ty::as_str);
    };
}

pub(crate) use identifier_text;
