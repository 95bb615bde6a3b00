//! WAL positions (`pg_lsn`) and the consistency token built from one.
//!
//! PostgreSQL prints a position as two hexadecimal halves, `16/B374D848`; compared as one 64-bit
//! number, a later position is a larger one. The token a mutation hands back is the primary's
//! position after its commit, prefixed with a version (`v1:16/B374D848`) so its form can change
//! without old tokens being misread. It is stateless: any instance serving the same primary
//! reads it the same way.

use std::fmt;

/// The request and response header that carries the consistency token.
pub const CONSISTENCY_HEADER: &str = "fraiseql-consistency";

/// The version prefix of tokens this server writes.
const TOKEN_PREFIX: &str = "v1:";

/// A position in the write-ahead log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lsn(pub u64);

/// Text that is not a WAL position (or token).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not a WAL position like 16/B374D848: {0:?}")]
pub struct LsnError(String);

impl Lsn {
    /// Reads PostgreSQL's `pg_lsn` text form, `X/Y` (each half up to 8 hex digits).
    pub fn parse(text: &str) -> Result<Lsn, LsnError> {
        let bad = || LsnError(text.chars().take(40).collect());
        let (high, low) = text.trim().split_once('/').ok_or_else(bad)?;
        let half = |s: &str| {
            if s.is_empty() || s.len() > 8 {
                return Err(bad());
            }
            u32::from_str_radix(s, 16).map_err(|_| bad())
        };
        Ok(Lsn((u64::from(half(high)?) << 32) | u64::from(half(low)?)))
    }

    /// The consistency token for this position (`v1:X/Y`).
    pub fn token(self) -> String {
        format!("{TOKEN_PREFIX}{self}")
    }

    /// Reads a token this server (or another instance) wrote.
    pub fn from_token(token: &str) -> Result<Lsn, LsnError> {
        match token.trim().strip_prefix(TOKEN_PREFIX) {
            Some(lsn) => Lsn::parse(lsn),
            None => Err(LsnError(token.chars().take(40).collect())),
        }
    }
}

impl fmt::Display for Lsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_read_and_print_as_postgres_does() {
        let lsn = Lsn::parse("16/B374D848").unwrap();
        assert_eq!(lsn.0, 0x16_B374_D848);
        assert_eq!(lsn.to_string(), "16/B374D848");
        assert_eq!(Lsn::parse("0/0").unwrap(), Lsn(0));
        assert!(Lsn::parse("0/3000148").unwrap() < Lsn::parse("1/0").unwrap());
        for bad in ["", "16", "/1", "1/", "g/1", "1/123456789", "1/2/3"] {
            assert!(Lsn::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn tokens_carry_a_version() {
        let lsn = Lsn::parse("0/3000148").unwrap();
        assert_eq!(lsn.token(), "v1:0/3000148");
        assert_eq!(Lsn::from_token(" v1:0/3000148 ").unwrap(), lsn);
        assert!(Lsn::from_token("0/3000148").is_err());
        assert!(Lsn::from_token("v2:0/3000148").is_err());
    }
}
