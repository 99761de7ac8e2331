//! The committed baseline (`benches/icount-baseline.toml`) and the gate's
//! verdict against it.
//!
//! Threshold semantics: a workload fails when its count exceeds the
//! baseline by more than [`THRESHOLD_PERCENT`] (count x 100 > baseline x
//! 105, in integers, so exactly +5% passes). A fall of more than the same
//! share is not a failure, only a hint to rebase, so that a later rise back
//! to the old level is still caught. A workload without a baseline entry,
//! or an entry without a workload, fails: the file must name exactly the
//! workloads the gate runs.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Deserialize;

/// Largest rise over the baseline that still passes, in percent.
pub const THRESHOLD_PERCENT: u64 = 5;

/// The command that rewrites the baseline (benches/README.md).
pub const UPDATE_COMMAND: &str = "scripts/icount.sh update";

/// Workload names are short identifiers; this bounds the file.
const MAX_ENTRIES: usize = 256;

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// `rustc -V` of the compiler that built the runner which counted.
    pub rustc: String,
    /// Workload name -> instructions (callgrind's Ir) inside the measured
    /// part.
    pub instructions: BTreeMap<String, u64>,
}

impl Baseline {
    pub fn parse(file: &str, text: &str) -> Result<Baseline, String> {
        let b: Baseline = toml::from_str(text).map_err(|e| format!("{file}: {e}"))?;
        if b.instructions.len() > MAX_ENTRIES {
            return Err(format!("{file}: [instructions] has {} entries, at most {MAX_ENTRIES}", b.instructions.len()));
        }
        Ok(b)
    }

    /// The file's text: a header saying what it is and how to rebase it,
    /// then the entries in name order (so an update diffs line by line).
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        s.push_str("# Instruction counts (callgrind Ir) of the gated workloads: benches/icount, and\n");
        s.push_str("# benches/README.md, \"Instruction-count gate\". CI fails when a count rises more\n");
        let _ = writeln!(
            s,
            "# than {THRESHOLD_PERCENT}% over the value here. Rewritten by `{UPDATE_COMMAND}` (on purpose only)."
        );
        let _ = writeln!(s, "rustc = {:?}", self.rustc);
        s.push_str("\n[instructions]\n");
        for (name, count) in &self.instructions {
            let _ = writeln!(s, "{name} = {count}");
        }
        s
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Within the threshold either way.
    Ok,
    /// Rose more than the threshold: the gate fails.
    Rise,
    /// Fell more than the threshold: passes, with a hint to rebase.
    Fall,
    /// Counted, but absent from the baseline: fails.
    NoBaseline,
    /// In the baseline, but not a workload (or not counted): fails.
    NotCounted,
}

impl Verdict {
    pub fn fails(self) -> bool {
        matches!(self, Verdict::Rise | Verdict::NoBaseline | Verdict::NotCounted)
    }

    pub fn label(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Rise => "FAIL: rise",
            Verdict::Fall => "fall (hint: rebase)",
            Verdict::NoBaseline => "FAIL: not in baseline",
            Verdict::NotCounted => "FAIL: not a workload",
        }
    }
}

pub fn verdict(baseline: u64, now: u64) -> Verdict {
    let (b, n) = (baseline as u128, now as u128);
    if n * 100 > b * (100 + THRESHOLD_PERCENT as u128) {
        Verdict::Rise
    } else if n * 100 < b * (100 - THRESHOLD_PERCENT as u128) {
        Verdict::Fall
    } else {
        Verdict::Ok
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub name: String,
    pub baseline: Option<u64>,
    pub now: Option<u64>,
    pub verdict: Verdict,
}

/// One row per workload counted (in the order given), then one per
/// baseline entry that was not counted.
pub fn compare(baseline: &BTreeMap<String, u64>, counts: &[(String, u64)]) -> Vec<Row> {
    let mut rows: Vec<Row> = counts
        .iter()
        .map(|(name, now)| {
            let base = baseline.get(name).copied();
            let verdict = base.map_or(Verdict::NoBaseline, |b| verdict(b, *now));
            Row { name: name.clone(), baseline: base, now: Some(*now), verdict }
        })
        .collect();
    for (name, &b) in baseline {
        if !counts.iter().any(|(n, _)| n == name) {
            rows.push(Row { name: name.clone(), baseline: Some(b), now: None, verdict: Verdict::NotCounted });
        }
    }
    rows
}

/// 1234567 -> "1,234,567".
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The comparison as an aligned table, one line per row.
pub fn table(rows: &[Row]) -> String {
    let opt = |v: Option<u64>| v.map_or("-".to_string(), grouped);
    let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(0).max("workload".len());
    let mut s = format!("{:<width$}  {:>15}  {:>15}  {:>8}  verdict\n", "workload", "baseline", "now", "change");
    for r in rows {
        let change = match (r.baseline, r.now) {
            (Some(b), Some(n)) if b > 0 => format!("{:+.2}%", (n as f64 - b as f64) / b as f64 * 100.0),
            _ => "-".to_string(),
        };
        let _ = writeln!(
            s,
            "{:<width$}  {:>15}  {:>15}  {:>8}  {}",
            r.name,
            opt(r.baseline),
            opt(r.now),
            change,
            r.verdict.label()
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_percent_up_passes_and_one_more_instruction_fails() {
        assert_eq!(verdict(1_000_000, 1_050_000), Verdict::Ok);
        assert_eq!(verdict(1_000_000, 1_050_001), Verdict::Rise);
        assert_eq!(verdict(1_000_000, 1_100_000), Verdict::Rise);
        assert_eq!(verdict(1_000_000, 1_000_000), Verdict::Ok);
        // No overflow at the top of the range.
        assert_eq!(verdict(u64::MAX, u64::MAX), Verdict::Ok);
        assert_eq!(verdict(u64::MAX / 2, u64::MAX), Verdict::Rise);
    }

    #[test]
    fn a_fall_beyond_five_percent_is_a_hint_not_a_failure() {
        assert_eq!(verdict(1_000_000, 950_000), Verdict::Ok);
        assert_eq!(verdict(1_000_000, 949_999), Verdict::Fall);
        assert!(!Verdict::Fall.fails());
        assert!(Verdict::Rise.fails());
    }

    #[test]
    fn missing_entries_fail_both_ways() {
        let base: BTreeMap<String, u64> = [("a".to_string(), 100), ("gone".to_string(), 7)].into_iter().collect();
        let rows = compare(&base, &[("a".to_string(), 104), ("new".to_string(), 5)]);
        let verdicts: Vec<(&str, Verdict)> = rows.iter().map(|r| (r.name.as_str(), r.verdict)).collect();
        assert_eq!(verdicts, [("a", Verdict::Ok), ("new", Verdict::NoBaseline), ("gone", Verdict::NotCounted)]);
        assert!(rows[1].verdict.fails() && rows[2].verdict.fails());
        let t = table(&rows);
        assert!(t.contains("+4.00%"), "{t}");
        assert!(t.lines().any(|l| l.starts_with("gone") && l.contains("FAIL: not a workload")), "{t}");
    }

    #[test]
    fn text_round_trips() {
        let b = Baseline {
            rustc: "rustc 1.95.0 (59807616e 2026-04-14)".to_string(),
            instructions: [("engine_queue".to_string(), 123_456_789), ("codec_decode".to_string(), 42)]
                .into_iter()
                .collect(),
        };
        let text = b.to_text();
        assert_eq!(Baseline::parse("b.toml", &text).unwrap(), b);
        // Entries in name order, one per line.
        let codec = text.find("codec_decode = 42").unwrap();
        assert!(codec < text.find("engine_queue = 123456789").unwrap());
    }

    #[test]
    fn bad_files_name_the_file_and_the_problem() {
        let e = Baseline::parse("b.toml", "rustc = \"x\"\n[instructions]\na = -3\n").unwrap_err();
        assert!(e.starts_with("b.toml") && e.contains("line 3") && e.contains("expected u64"), "{e}");
        let e = Baseline::parse("b.toml", "rustc = \"x\"\ncolour = 1\n[instructions]\n").unwrap_err();
        assert!(e.contains("colour"), "{e}");
        let e = Baseline::parse("b.toml", "[instructions]\na = 1\n").unwrap_err();
        assert!(e.contains("rustc"), "{e}");
    }

    #[test]
    fn grouping() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(123_456_789), "123,456,789");
    }
}
