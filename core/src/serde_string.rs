//! Serde support for types that travel as their text form.
//!
//! Deserialising goes through the type's own `parse`, so a stored or configured value is
//! checked exactly like user input.

/// Implements `Serialize` (the `Display` form) and `Deserialize` (via `parse`) for `$ty`.
/// `$as_text` gives the form written out (it must be the clear value even for types whose
/// `Display` redacts, e.g. `Ins`).
macro_rules! serde_as_string {
    ($ty:ty, $expecting:literal, $as_text:expr) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(
                &self,
                serializer: S,
            ) -> std::result::Result<S::Ok, S::Error> {
                let as_text: fn(&$ty) -> &str = $as_text;
                serializer.serialize_str(as_text(self))
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(
                deserializer: D,
            ) -> std::result::Result<Self, D::Error> {
                struct TextVisitor;
                impl serde::de::Visitor<'_> for TextVisitor {
                    type Value = $ty;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: serde::de::Error>(
                        self,
                        v: &str,
                    ) -> std::result::Result<$ty, E> {
                        <$ty>::parse(v).map_err(E::custom)
                    }
                }
                deserializer.deserialize_str(TextVisitor)
            }
        }
    };
}

pub(crate) use serde_as_string;
