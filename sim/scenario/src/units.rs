//! Values with units, as written in scenario files: durations (`"50 ms"`),
//! bit rates (`"10 Mbps"`) and sizes (`"1 KiB"`). Each parses into an
//! integer in its base unit (ns, bit/s, bytes), so nothing downstream sees a
//! float that could round differently on another machine.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

/// A duration in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct DurationNs(pub u64);

/// A bit rate in bits per second.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct RateBps(pub u64);

/// A size in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct SizeBytes(pub u64);

struct UnitKind {
    what: &'static str,
    example: &'static str,
    units: &'static [(&'static str, f64)],
}

const DURATION: UnitKind = UnitKind {
    what: "a duration",
    example: "\"50 ms\"",
    units: &[
        ("ns", 1.0),
        ("us", 1e3),
        ("µs", 1e3),
        ("ms", 1e6),
        ("s", 1e9),
        ("min", 60e9),
        ("h", 3600e9),
    ],
};

const RATE: UnitKind = UnitKind {
    what: "a bit rate",
    example: "\"10 Mbps\"",
    units: &[("bps", 1.0), ("kbps", 1e3), ("Kbps", 1e3), ("Mbps", 1e6), ("Gbps", 1e9), ("Tbps", 1e12)],
};

const SIZE: UnitKind = UnitKind {
    what: "a size",
    example: "\"1 KiB\"",
    units: &[
        ("B", 1.0),
        ("KB", 1e3),
        ("KiB", 1024.0),
        ("MB", 1e6),
        ("MiB", 1_048_576.0),
        ("GB", 1e9),
        ("GiB", 1_073_741_824.0),
    ],
};

/// The characters `str::trim` removes (Unicode White_Space), spelled out
/// because JSON Schema regex dialects disagree on what `\s` is.
const WHITESPACE_CLASS: &str = r"[\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]";

impl UnitKind {
    /// A regular expression (ECMA-262, also Python's and Rust's dialect)
    /// matching exactly the strings [`UnitKind::parse`] reads the form
    /// of: the number as `parse` reads it after dropping `_` (an optional
    /// `+`, digits with an optional `.`; a `-` always ends up negative or
    /// unparsable), then a unit of the table, whitespace allowed around
    /// both. Built from the same table, so the two cannot drift. What it
    /// cannot say is the bound: a value of `u64::MAX` base units or more
    /// matches and is refused as too large.
    pub(crate) fn pattern(&self) -> String {
        let ws = WHITESPACE_CLASS;
        let number = r"_*(?:\+_*)?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\._*[0-9][0-9_]*)";
        let units: Vec<String> = self.units.iter().map(|(u, _)| regex_escape(u)).collect();
        format!("^{ws}*{number}{ws}*(?:{}){ws}*$", units.join("|"))
    }

    fn schema(&self, generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let _ = generator;
        schemars::json_schema!({
            "type": "string",
            "description": format!("{} such as {}: a non-negative number and a unit ({}).", capitalised(self.what), self.example, self.unit_list()),
            "pattern": self.pattern(),
        })
    }

    fn unit_list(&self) -> String {
        self.units.iter().map(|(u, _)| *u).collect::<Vec<_>>().join(", ")
    }

    /// Parses `"<non-negative number> <unit>"` (the space is optional).
    fn parse(&self, text: &str) -> Result<u64, String> {
        let t = text.trim();
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+' || c == '_'))
            .unwrap_or(t.len());
        let (num, unit) = (t[..split].trim(), t[split..].trim());
        let expected = || {
            format!("expected {} such as {} (units: {}), found {text:?}", self.what, self.example, self.unit_list())
        };
        let value: f64 = num.replace('_', "").parse().map_err(|_| expected())?;
        if value.is_sign_negative() {
            return Err(format!("expected a non-negative {}, found {text:?}", &self.what[2..]));
        }
        let scale = self.units.iter().find(|(u, _)| *u == unit).map(|(_, s)| *s).ok_or_else(expected)?;
        let base = (value * scale).round();
        if !base.is_finite() || base >= u64::MAX as f64 {
            return Err(format!("{} {text:?} is too large", self.what));
        }
        Ok(base as u64)
    }
}

fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.^$|?*+()[]{}".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn capitalised(text: &str) -> String {
    let mut c = text.chars();
    c.next().map_or_else(String::new, |first| first.to_uppercase().chain(c).collect())
}

impl DurationNs {
    pub fn parse(text: &str) -> Result<Self, String> {
        DURATION.parse(text).map(DurationNs)
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
}

impl RateBps {
    pub fn parse(text: &str) -> Result<Self, String> {
        RATE.parse(text).map(RateBps)
    }
}

impl SizeBytes {
    pub fn parse(text: &str) -> Result<Self, String> {
        SIZE.parse(text).map(SizeBytes)
    }
}

macro_rules! deserialize_unit {
    ($ty:ident, $kind:expr) => {
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl Visitor<'_> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        write!(f, "{} string such as {}", $kind.what, $kind.example)
                    }
                    fn visit_str<E: de::Error>(self, s: &str) -> Result<$ty, E> {
                        $kind.parse(s).map($ty).map_err(E::custom)
                    }
                }
                d.deserialize_str(V)
            }
        }
    };
}

deserialize_unit!(DurationNs, DURATION);
deserialize_unit!(RateBps, RATE);
deserialize_unit!(SizeBytes, SIZE);

/// In the schema, one definition per kind: a string with the pattern of
/// exactly what its parser reads.
macro_rules! schema_unit {
    ($ty:ident, $kind:expr, $name:literal) => {
        impl schemars::JsonSchema for $ty {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                $name.into()
            }
            fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
                $kind.schema(generator)
            }
        }
    };
}

schema_unit!(DurationNs, DURATION, "Duration");
schema_unit!(RateBps, RATE, "Rate");
schema_unit!(SizeBytes, SIZE, "Size");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_unit() {
        assert_eq!(DurationNs::parse("50 ms"), Ok(DurationNs(50_000_000)));
        assert_eq!(DurationNs::parse("2s"), Ok(DurationNs(2_000_000_000)));
        assert_eq!(DurationNs::parse("1.5 min"), Ok(DurationNs(90_000_000_000)));
        assert_eq!(DurationNs::parse("0.1 s"), Ok(DurationNs(100_000_000)));
        assert_eq!(RateBps::parse("1 Mbps"), Ok(RateBps(1_000_000)));
        assert_eq!(RateBps::parse("10 Gbps"), Ok(RateBps(10_000_000_000)));
        assert_eq!(SizeBytes::parse("1 KiB"), Ok(SizeBytes(1024)));
        assert_eq!(SizeBytes::parse("1_500 B"), Ok(SizeBytes(1500)));
        assert_eq!(SizeBytes::parse("4 MiB"), Ok(SizeBytes(4 << 20)));
    }

    #[test]
    fn rejects_bad_units_and_signs() {
        let e = DurationNs::parse("50 parsecs").unwrap_err();
        assert!(e.contains("expected a duration") && e.contains("\"50 parsecs\""), "{e}");
        let e = RateBps::parse("-1 Mbps").unwrap_err();
        assert!(e.contains("non-negative bit rate"), "{e}");
        assert!(RateBps::parse("1 MBps").is_err(), "units are case-sensitive: MB is bytes");
        assert!(SizeBytes::parse("KiB").is_err());
        assert!(DurationNs::parse("").is_err());
    }
}
