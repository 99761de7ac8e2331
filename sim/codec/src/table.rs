//! The decode model: P(decode failure | K source symbols, n distinct
//! symbols received), as measured by [`crate::calibrate()`].
//!
//! # File format (CSV)
//!
//! ```text
//! # any number of comment lines: what produced the table, and how
//! k,extra,trials,failures
//! 122,0,20000,87
//! 122,1,20000,0
//! ```
//!
//! One row per (K, extra): of `trials` blocks of K source symbols that
//! received K + extra distinct symbols, `failures` did not decode. For each
//! K the extras run 0, 1, ..., E without gaps. Rows are sorted by (k, extra).
//!
//! # Lookups
//!
//! - n < K: failure is certain (P = 1).
//! - The measured curve of each K is made non-increasing in `extra` (running
//!   minimum): more symbols never hurt the real decoder, and a noisy count
//!   must not make the model say otherwise.
//! - Beyond the last measured extra E: P(E) x 256^-(extra - E), the decay per
//!   extra symbol that RFC 6330 and raptorq quote (1/256^(h+1);
//!   docs/references.md, Decode failure). A measured zero stays zero.
//! - A K between two tabulated Ks: linear interpolation in K between the two
//!   neighbours' values at the same extra. Below the smallest or above the
//!   largest tabulated K: the nearest K's values (no extrapolation in K).
//!
//! raptorq's failure rate is not smooth in K: it follows the code's
//! internal block size K' (RFC 6330 table 2;
//! docs/references.md, raptorq limits), and some K' are worse than
//! their neighbours. Measured at span 16 (20,000 blocks each): 0.51% at
//! K = 250 and 260, 0.79-0.96% at K = 255-257. Interpolation cannot see
//! such a spike, so a scenario whose K is not tabulated should calibrate it
//! (`cdnsim calibrate --ks ...`).

use cdnsim_maths::powi;
use std::path::Path;

use crate::block::MAX_SOURCE_SYMBOLS;
use crate::error::TableError;

/// The CSV header line.
pub const HEADER: &str = "k,extra,trials,failures";
/// The largest `extra` a table may hold: beyond a few symbols the failure
/// probability is far below anything a simulation can observe.
pub const MAX_EXTRA: u32 = 255;

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeRow {
    pub k: u16,
    pub extra: u32,
    pub trials: u64,
    pub failures: u64,
}

impl DecodeRow {
    /// The measured failure probability, failures / trials.
    pub fn fail_probability(&self) -> f64 {
        self.failures as f64 / self.trials as f64
    }
}

/// The line that records the end of the calibrated repair ESIs.
pub const ESI_END_DIRECTIVE: &str = "#! esi_end =";

/// Measured failure counts for each K, with the lookup rules above.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeTable {
    ks: Vec<u16>,
    /// Per K (same order as `ks`): (trials, failures) per extra 0..=E.
    counts: Vec<Vec<(u64, u64)>>,
    /// Per K: the non-increasing failure probability per extra.
    curves: Vec<Vec<f64>>,
    /// The end of the repair ESIs it was calibrated with, when known: the
    /// ids of a layout it is used for must lie below it.
    esi_end: Option<u32>,
}

impl DecodeTable {
    /// A table from rows sorted by (k, extra), extras contiguous from 0.
    /// Errors name the row (1-based) as `line`.
    pub fn from_rows(rows: &[DecodeRow]) -> Result<DecodeTable, TableError> {
        let err = |line: usize, message: String| TableError { path: None, line, message };
        if rows.is_empty() {
            return Err(err(0, "the table has no rows".into()));
        }
        let mut table = DecodeTable { ks: Vec::new(), counts: Vec::new(), curves: Vec::new(), esi_end: None };
        for (i, r) in rows.iter().enumerate() {
            let line = i + 1;
            if r.k == 0 || r.k as u32 > MAX_SOURCE_SYMBOLS {
                return Err(err(line, format!("k = {}: expected 1..={MAX_SOURCE_SYMBOLS}", r.k)));
            }
            if r.extra > MAX_EXTRA {
                return Err(err(line, format!("extra = {}: expected 0..={MAX_EXTRA}", r.extra)));
            }
            if r.trials == 0 {
                return Err(err(line, "trials = 0: expected at least 1".into()));
            }
            if r.failures > r.trials {
                return Err(err(line, format!("failures = {} exceeds trials = {}", r.failures, r.trials)));
            }
            let new_k = table.ks.last() != Some(&r.k);
            if new_k {
                if let Some(&last) = table.ks.last()
                    && r.k < last
                {
                    return Err(err(line, format!("k = {} after k = {last}: rows must be sorted by k", r.k)));
                }
                if r.extra != 0 {
                    return Err(err(line, format!("k = {} starts at extra = {}: expected extra = 0", r.k, r.extra)));
                }
                table.ks.push(r.k);
                table.counts.push(Vec::new());
            } else {
                let expected = table.counts.last().map_or(0, |c| c.len() as u32);
                if r.extra != expected {
                    return Err(err(
                        line,
                        format!(
                            "k = {}: extra = {} follows extra = {}: expected {expected}",
                            r.k,
                            r.extra,
                            expected - 1
                        ),
                    ));
                }
            }
            table.counts.last_mut().expect("pushed above").push((r.trials, r.failures));
        }
        table.curves = table
            .counts
            .iter()
            .map(|c| {
                let mut lowest = 1.0f64;
                c.iter()
                    .map(|&(t, f)| {
                        lowest = lowest.min(f as f64 / t as f64);
                        lowest
                    })
                    .collect()
            })
            .collect();
        Ok(table)
    }

    /// Reads the CSV form. Errors name the 1-based line of the text.
    pub fn parse_csv(text: &str) -> Result<DecodeTable, TableError> {
        let at = |line: usize, message: String| TableError { path: None, line, message };
        let mut rows = Vec::new();
        let mut row_lines = Vec::new();
        let mut header_seen = false;
        let mut esi_end = None;
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let content = raw.trim();
            if let Some(directive) = content.strip_prefix(ESI_END_DIRECTIVE) {
                let v = directive.trim();
                let end = v.parse::<u32>().ok().filter(|&e| e <= crate::block::ESI_LIMIT);
                esi_end = Some(end.ok_or_else(|| at(line, format!("esi_end = {v:?}: expected an ESI count up to 2^24")))?);
                continue;
            }
            if content.is_empty() || content.starts_with('#') {
                continue;
            }
            if !header_seen {
                if content != HEADER {
                    return Err(at(line, format!("expected the header {HEADER:?}, found {content:?}")));
                }
                header_seen = true;
                continue;
            }
            let fields: Vec<&str> = content.split(',').map(str::trim).collect();
            if fields.len() != 4 {
                return Err(at(line, format!("expected 4 fields ({HEADER}), found {}", fields.len())));
            }
            let num = |i: usize, name: &str| -> Result<u64, TableError> {
                let f = fields[i];
                f.parse::<u64>().map_err(|_| at(line, format!("{name} = {f:?}: expected a whole number")))
            };
            let (k, extra) = (num(0, "k")?, num(1, "extra")?);
            if k == 0 || k > MAX_SOURCE_SYMBOLS as u64 {
                return Err(at(line, format!("k = {k}: expected 1..={MAX_SOURCE_SYMBOLS}")));
            }
            rows.push(DecodeRow {
                k: k as u16,
                extra: u32::try_from(extra).unwrap_or(u32::MAX),
                trials: num(2, "trials")?,
                failures: num(3, "failures")?,
            });
            row_lines.push(line);
        }
        if !header_seen {
            return Err(at(0, format!("no header line {HEADER:?}")));
        }
        // Map a row error back to its line in the text.
        let table = DecodeTable::from_rows(&rows).map_err(|e| at(if e.line == 0 { 0 } else { row_lines[e.line - 1] }, e.message))?;
        Ok(DecodeTable { esi_end, ..table })
    }

    /// Reads a table file (the CSV form); errors name the file and line.
    pub fn read_file(path: &Path) -> Result<DecodeTable, TableError> {
        let named = |line, message| TableError { path: Some(path.display().to_string()), line, message };
        let bytes = std::fs::read(path).map_err(|e| named(0, format!("cannot read: {e}")))?;
        // A byte that is not UTF-8 is an error of its line, like any other.
        let text = String::from_utf8(bytes).map_err(|e| {
            let at = e.utf8_error().valid_up_to();
            let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
            named(line, format!("expected UTF-8 text, found byte 0x{:02x}", e.as_bytes()[at]))
        })?;
        DecodeTable::parse_csv(&text).map_err(|e| named(e.line, e.message))
    }

    /// The CSV form, `comments` first (each line gets a "# "), then the
    /// ESI end it was calibrated with, if known.
    pub fn to_csv(&self, comments: &[String]) -> String {
        let mut out = String::new();
        for c in comments {
            for line in c.lines() {
                out.push_str("# ");
                out.push_str(line);
                out.push('\n');
            }
        }
        if let Some(end) = self.esi_end {
            out.push_str(&format!("{ESI_END_DIRECTIVE} {end}\n"));
        }
        out.push_str(HEADER);
        out.push('\n');
        for r in self.rows() {
            out.push_str(&format!("{},{},{},{}\n", r.k, r.extra, r.trials, r.failures));
        }
        out
    }

    /// All rows, sorted by (k, extra).
    pub fn rows(&self) -> impl Iterator<Item = DecodeRow> + '_ {
        self.ks.iter().zip(&self.counts).flat_map(|(&k, c)| {
            c.iter().enumerate().map(move |(extra, &(trials, failures))| DecodeRow {
                k,
                extra: extra as u32,
                trials,
                failures,
            })
        })
    }

    /// The same table, marked as calibrated with repair ESIs below `end`.
    pub fn with_esi_end(self, end: u32) -> DecodeTable {
        DecodeTable { esi_end: Some(end), ..self }
    }

    /// The end of the repair ESIs it was calibrated with (the file's
    /// `#! esi_end` line), if it says.
    pub fn esi_end(&self) -> Option<u32> {
        self.esi_end
    }

    /// The tabulated Ks, ascending.
    pub fn ks(&self) -> &[u16] {
        &self.ks
    }

    /// P(decode failure) for a block of `k` source symbols holding
    /// `received` distinct symbols (see the module documentation).
    pub fn fail_probability(&self, k: u16, received: u32) -> f64 {
        if received < k as u32 {
            return 1.0;
        }
        let extra = received - k as u32;
        match self.ks.binary_search(&k) {
            Ok(i) => self.curve_at(i, extra),
            Err(0) => self.curve_at(0, extra),
            Err(i) if i == self.ks.len() => self.curve_at(i - 1, extra),
            Err(i) => {
                let (k0, k1) = (self.ks[i - 1] as f64, self.ks[i] as f64);
                let (p0, p1) = (self.curve_at(i - 1, extra), self.curve_at(i, extra));
                p0 + (p1 - p0) * (k as f64 - k0) / (k1 - k0)
            }
        }
    }

    /// Whether the block decodes, given the caller's uniform draw `u` in
    /// [0, 1): true with probability 1 - P(failure).
    pub fn decodes(&self, k: u16, received: u32, u: f64) -> bool {
        u >= self.fail_probability(k, received)
    }

    fn curve_at(&self, i: usize, extra: u32) -> f64 {
        let curve = &self.curves[i];
        let last = curve.len() - 1;
        if (extra as usize) <= last {
            curve[extra as usize]
        } else {
            let beyond = (extra as usize - last).min(1000) as i32;
            curve[last] * powi(256.0, -beyond)
        }
    }
}

/// The Wilson score interval for `hits` in `trials` at `z` standard normal
/// quantiles: stays inside [0, 1] and is sensible at 0 or `trials` hits.
pub fn wilson_interval(hits: u64, trials: u64, z: f64) -> (f64, f64) {
    if trials == 0 {
        return (0.0, 1.0);
    }
    let n = trials as f64;
    let p = hits as f64 / n;
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(k: u16, extra: u32, trials: u64, failures: u64) -> DecodeRow {
        DecodeRow { k, extra, trials, failures }
    }

    fn sample() -> DecodeTable {
        DecodeTable::from_rows(&[
            row(10, 0, 1000, 20),
            row(10, 1, 1000, 1),
            row(20, 0, 1000, 10),
            row(20, 1, 1000, 3), // noisy: higher than at K=10
            row(20, 2, 1000, 4), // noisy: not monotone
        ])
        .unwrap()
    }

    #[test]
    fn lookups_follow_the_documented_rules() {
        let t = sample();
        assert_eq!(t.fail_probability(10, 9), 1.0);
        assert_eq!(t.fail_probability(10, 10), 0.02);
        assert_eq!(t.fail_probability(20, 22), 0.003, "running minimum over extras");
        // Beyond the measured extras: / 256 per symbol.
        assert!((t.fail_probability(10, 13) - 0.001 / 256f64.powi(2)).abs() < 1e-15);
        // Interpolation in K at extra 0: halfway between 0.02 and 0.01.
        assert!((t.fail_probability(15, 15) - 0.015).abs() < 1e-12);
        // Clamped outside the tabulated Ks.
        assert_eq!(t.fail_probability(5, 5), 0.02);
        assert_eq!(t.fail_probability(500, 500), 0.01);
        assert!(t.decodes(10, 10, 0.02) && !t.decodes(10, 10, 0.0199) && !t.decodes(10, 9, 0.999));
    }

    #[test]
    fn csv_round_trip() {
        let t = sample();
        let text = t.to_csv(&["made by a test".into(), "two\nlines".into()]);
        assert!(text.starts_with("# made by a test\n# two\n# lines\nk,extra,trials,failures\n10,0,1000,20\n"));
        assert_eq!(DecodeTable::parse_csv(&text).unwrap(), t);
    }

    #[test]
    fn bad_tables_name_the_line() {
        let cases = [
            ("", 0, "no header"),
            ("k,extra\n", 1, "expected the header"),
            ("# c\nk,extra,trials,failures\n10,0,5\n", 3, "expected 4 fields"),
            ("k,extra,trials,failures\n10,0,x,1\n", 2, "trials = \"x\""),
            ("k,extra,trials,failures\n0,0,1,1\n", 2, "k = 0"),
            ("k,extra,trials,failures\n10,0,5,6\n", 2, "exceeds trials"),
            ("k,extra,trials,failures\n10,0,0,0\n", 2, "trials = 0"),
            ("k,extra,trials,failures\n10,1,5,0\n", 2, "expected extra = 0"),
            ("k,extra,trials,failures\n10,0,5,0\n\n10,2,5,0\n", 4, "expected 1"),
            ("k,extra,trials,failures\n10,0,5,0\n9,0,5,0\n", 3, "sorted"),
            ("k,extra,trials,failures\n", 0, "no rows"),
        ];
        for (text, line, needle) in cases {
            let e = DecodeTable::parse_csv(text).unwrap_err();
            assert_eq!(e.line, line, "{text:?}: {e}");
            assert!(e.message.contains(needle), "{text:?}: {e}");
        }
    }

    #[test]
    fn file_errors_name_the_file_and_line() {
        let dir = std::env::temp_dir().join(format!("cdnsim-codec-table-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bad.csv");
        std::fs::write(&path, "# c\nk,extra,trials,failures\n10,0,5,9\n").unwrap();
        let e = DecodeTable::read_file(&path).unwrap_err();
        assert_eq!(e.to_string(), format!("{}: line 3: failures = 9 exceeds trials = 5", path.display()));
        std::fs::write(&path, sample().to_csv(&[])).unwrap();
        assert_eq!(DecodeTable::read_file(&path).unwrap(), sample());
        // Found by cdnsim-fuzz: a byte that is not UTF-8 was "line 0: cannot read".
        std::fs::write(&path, b"# c\nk,extra,trials,failures\n10,0,5,\xff\n").unwrap();
        let e = DecodeTable::read_file(&path).unwrap_err();
        assert_eq!(e.to_string(), format!("{}: line 3: expected UTF-8 text, found byte 0xff", path.display()));
        let e = DecodeTable::read_file(&dir.join("missing.csv")).unwrap_err();
        assert!(e.to_string().contains("missing.csv: line 0: cannot read"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn wilson_contains_the_estimate_and_handles_zero() {
        let (lo, hi) = wilson_interval(50, 1000, 1.96);
        assert!(lo < 0.05 && 0.05 < hi && lo > 0.03 && hi < 0.07);
        let (lo, hi) = wilson_interval(0, 1000, 1.96);
        assert_eq!(lo, 0.0);
        assert!(hi > 0.002 && hi < 0.005, "{hi}");
    }
}
