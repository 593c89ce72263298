//! Typed IDs: a prefix and a 22-character base62 body whose first part is the
//! creation time in milliseconds, so IDs sort by time (KSUID-like, as Svix's).

use std::fmt;
use std::str::FromStr;

use rand::RngCore;

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BODY_LEN: usize = 22;

/// A new ID body: 48 bits of milliseconds then 80 random bits, base62, fixed width.
fn new_body(now_ms: i64) -> String {
    let mut random = [0u8; 10];
    rand::thread_rng().fill_bytes(&mut random);
    body_of(now_ms, random)
}

fn body_of(now_ms: i64, random: [u8; 10]) -> String {
    let mut n: u128 = (u128::from(now_ms as u64) & 0xFFFF_FFFF_FFFF) << 80;
    for (i, b) in random.iter().enumerate() {
        n |= u128::from(*b) << (8 * (9 - i));
    }
    let mut out = [b'0'; BODY_LEN];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(n % 62) as usize];
        n /= 62;
    }
    out.iter().map(|&b| b as char).collect()
}

/// The creation time (ms) a generated body carries, if it is one.
pub fn body_time_ms(body: &str) -> Option<i64> {
    if body.len() != BODY_LEN {
        return None;
    }
    let mut n: u128 = 0;
    for b in body.bytes() {
        let digit = ALPHABET.iter().position(|&a| a == b)?;
        n = n.checked_mul(62)?.checked_add(digit as u128)?;
    }
    i64::try_from(n >> 80).ok()
}

/// Why a string is not an ID of the expected kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{given}` is not a valid {prefix}_ id")]
pub struct InvalidId {
    pub prefix: &'static str,
    pub given: String,
}

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// A fresh ID for something created now.
            pub fn new() -> Self {
                Self::at(crate::clock::now_ms())
            }

            /// A fresh ID for something created at `ms`.
            pub fn at(ms: i64) -> Self {
                $name(format!("{}_{}", $prefix, new_body(ms)))
            }

            /// The smallest ID of anything created at `ms`: every ID made
            /// earlier sorts below it, every one made then or later not.
            pub fn floor(ms: i64) -> Self {
                $name(format!("{}_{}", $prefix, body_of(ms, [0; 10])))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// When it was made (ms), for an ID hookline generated.
            pub fn time_ms(&self) -> Option<i64> {
                body_time_ms(self.0.strip_prefix(concat!($prefix, "_"))?)
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;
            fn from_str(s: &str) -> Result<Self, InvalidId> {
                let ok = s
                    .strip_prefix(concat!($prefix, "_"))
                    .is_some_and(|b| !b.is_empty() && b.len() <= 64 && b.bytes().all(|c| c.is_ascii_alphanumeric()));
                if ok {
                    Ok($name(s.to_string()))
                } else {
                    Err(InvalidId { prefix: $prefix, given: s.chars().take(80).collect() })
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

typed_id!(
    /// A source (`src_…`).
    SourceId,
    "src"
);
typed_id!(
    /// An inbound event (`evt_…`).
    EventId,
    "evt"
);
typed_id!(
    /// An application, one consumer of webhooks (`app_…`).
    AppId,
    "app"
);
typed_id!(
    /// An endpoint, a URL that receives an app's webhooks (`ep_…`).
    EndpointId,
    "ep"
);
typed_id!(
    /// A message, one event to deliver (`msg_…`).
    MessageId,
    "msg"
);
typed_id!(
    /// One HTTP try of a delivery (`atmpt_…`).
    AttemptId,
    "atmpt"
);

typed_id!(
    /// A route, which forwards a source's events to a URL (`route_…`).
    RouteId,
    "route"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_tells_when_it_was_made() {
        let now = 1_764_000_000_123;
        assert_eq!(EventId::at(now).time_ms(), Some(now));
        assert_eq!(EventId::floor(now).time_ms(), Some(now));
        assert_eq!("evt_short".parse::<EventId>().unwrap().time_ms(), None);
    }

    #[test]
    fn ids_have_prefix_fixed_width_and_sort_by_time() {
        let a = EventId::at(1_000);
        let b = EventId::at(2_000);
        assert!(a.as_str().starts_with("evt_"));
        assert_eq!(a.as_str().len(), 4 + BODY_LEN);
        assert!(a < b);
        assert_ne!(EventId::at(5), EventId::at(5));
        assert_eq!(a.as_str().parse::<EventId>(), Ok(a.clone()));
        assert!("src_abc".parse::<EventId>().is_err());
        assert!("evt_a-b".parse::<EventId>().is_err());
        for _ in 0..100 {
            assert!(EventId::floor(2_000) <= EventId::at(2_000));
            assert!(EventId::at(1_999) < EventId::floor(2_000));
        }
    }
}
