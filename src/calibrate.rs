//! `cdnsim calibrate`: measures the decode model (P(decode failure | K, K +
//! extra symbols received)) with the real raptorq decoder and writes the
//! table that the `model` codec fidelity reads.
//!
//! Each K is measured from its own seeded generator (see
//! `cdnsim_codec::calibrate`), so the file is a pure function of the
//! options: threads only share the Ks out, and the file holds no wall time.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use cdnsim_codec::table::MAX_EXTRA;
use cdnsim_codec::{CalibrationSpec, DecodeRow, DecodeTable, MAX_SOURCE_SYMBOLS, RAPTORQ_VERSION, calibrate_k};

use crate::failure::Failure;

/// Prints a line; a closed stdout (`| head`) is not worth a panic.
fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

/// The command's options, as given.
pub struct Options {
    pub ks: Option<Vec<u64>>,
    pub max_extra: u32,
    pub trials: u64,
    pub seed: u64,
    pub esi_end: u32,
    pub threads: usize,
}

pub fn run(out: &Path, options: Options) -> Result<(), Failure> {
    let Options { ks, max_extra, trials, seed, esi_end, threads } = options;
    let bad = |m: String| Failure::BadInput(m);
    let default_ks = ks.is_none();
    let mut checked = Vec::new();
    for k in ks.unwrap_or_else(|| cdnsim_codec::DEFAULT_KS.iter().map(|&k| k as u64).collect()) {
        if k == 0 || k > MAX_SOURCE_SYMBOLS as u64 {
            return Err(bad(format!("--ks: K = {k}: expected 1..={MAX_SOURCE_SYMBOLS}")));
        }
        checked.push(k as u16);
    }
    checked.sort_unstable();
    checked.dedup();
    if max_extra > MAX_EXTRA {
        return Err(bad(format!("--max-extra {max_extra}: expected 0..={MAX_EXTRA}")));
    }
    if trials == 0 {
        return Err(bad("--trials 0: expected at least 1".into()));
    }
    if threads == 0 {
        return Err(bad("--threads 0: expected at least 1".into()));
    }
    let largest = checked.last().copied().unwrap_or(1) as u64;
    let least = largest + 4 * (largest + max_extra as u64);
    if (esi_end as u64) < least || esi_end > cdnsim_codec::ESI_LIMIT {
        return Err(bad(format!("--esi-end {esi_end}: expected {least}..=2^24 for K = {largest}")));
    }
    let spec = CalibrationSpec { max_extra, trials, seed, esi_end };
    let ks = checked;
    // A folder that cannot be made should fail before minutes of work.
    if let Some(parent) = out.parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)
            .map_err(|e| bad(format!("{}: cannot create the folder: {e}", parent.display())))?;
    }

    let clock = Instant::now();
    let rows = measure(&ks, &spec, threads);
    let table = DecodeTable::from_rows(&rows).map_err(|e| Failure::Internal(format!("calibrated table: {e}")))?;

    let mut command = format!("cdnsim calibrate --out {} --trials {trials} --seed {seed}", out.display());
    if max_extra != cdnsim_codec::DEFAULT_MAX_EXTRA {
        command.push_str(&format!(" --max-extra {max_extra}"));
    }
    if esi_end != cdnsim_codec::LAST_HOP_ESI_END {
        command.push_str(&format!(" --esi-end {esi_end}"));
    }
    if !default_ks {
        let list: Vec<String> = ks.iter().map(u16::to_string).collect();
        command.push_str(&format!(" --ks {}", list.join(",")));
    }
    let decoder = format!("raptorq {RAPTORQ_VERSION} SourceBlockDecoder");
    let comments = vec![
        "cdnsim decode model: P(decode failure | K source symbols, K + extra distinct symbols received).".to_string(),
        format!("Produced by: {command}"),
        format!("Decoder: {decoder} on 1-byte symbols. Per trial, K + {max_extra} distinct"),
        format!(
            "repair ESIs drawn uniformly from [K, {esi_end}) (the ids a last-hop layout uses; SplitMix64"
        ),
        "seeded per K from the seed) are fed in draw order, trying to decode at each count from K on;".to_string(),
        "`failures` at K + extra counts the trials still undecoded after K + extra symbols.".to_string(),
        "Read by cdnsim_codec::DecodeTable (lookup rules in sim/codec/src/table.rs).".to_string(),
    ];
    let text = table.with_esi_end(esi_end).to_csv(&comments);
    // Written to a temporary name and renamed, so a reader never sees half
    // a table.
    let fail = |e: std::io::Error| Failure::BadInput(format!("{}: cannot write: {e}", out.display()));
    cdnsim_metrics::atomic::write_file(out, |tmp| std::fs::write(tmp, &text).map_err(fail), |_, e| fail(e))?;
    say(&format!(
        "wrote {} ({} Ks x {} extras, {trials} trials each) in {:.1} s",
        out.display(),
        ks.len(),
        max_extra + 1,
        clock.elapsed().as_secs_f64()
    ));
    Ok(())
}

/// All rows, in K order whatever the thread count. The largest Ks (the
/// slowest) are handed out first so the threads finish together.
fn measure(ks: &[u16], spec: &CalibrationSpec, threads: usize) -> Vec<DecodeRow> {
    let order: Vec<usize> = (0..ks.len()).rev().collect();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Vec<DecodeRow>>>> = Mutex::new(vec![None; ks.len()]);
    std::thread::scope(|scope| {
        for _ in 0..threads.min(ks.len()) {
            scope.spawn(|| {
                loop {
                    let at = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&i) = order.get(at) else { break };
                    let k = ks[i];
                    let clock = Instant::now();
                    let rows = calibrate_k(k, spec).expect("K, extras, trials and span were checked");
                    let failures: Vec<u64> = rows.iter().map(|r| r.failures).collect();
                    say(&format!(
                        "K = {k:5}: failures at K+0..={} out of {}: {failures:?} ({:.1} s)",
                        spec.max_extra,
                        spec.trials,
                        clock.elapsed().as_secs_f64()
                    ));
                    results.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(rows);
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    results.into_iter().flat_map(|r| r.expect("every K was measured")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table_text(dir: &Path, threads: usize) -> String {
        let out = dir.join(format!("t{threads}.csv"));
        let options =
            Options { ks: Some(vec![12, 4, 12, 30]), max_extra: 2, trials: 300, seed: 9, esi_end: 4000, threads };
        assert!(run(&out, options).is_ok());
        std::fs::read_to_string(&out).unwrap().replace(&format!("t{threads}.csv"), "t.csv")
    }

    #[test]
    fn the_table_is_the_same_for_any_thread_count_and_reads_back() {
        let dir = std::env::temp_dir().join(format!("cdnsim-calibrate-test-{}", std::process::id()));
        let one = table_text(&dir, 1);
        let three = table_text(&dir, 3);
        assert_eq!(one, three);
        let table = DecodeTable::parse_csv(&one).unwrap();
        assert_eq!(table.ks(), &[4, 12, 30]);
        assert_eq!(table.esi_end(), Some(4000));
        assert!(one.contains("# Produced by: cdnsim calibrate --out "));
        assert!(one.contains(" --trials 300 --seed 9 --max-extra 2 --esi-end 4000 --ks 4,12,30\n"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn bad_options_are_bad_input() {
        let out = std::env::temp_dir().join("cdnsim-never-written.csv");
        let cases = [
            (Some(vec![0]), 1, 5, 16_384, 1),
            (None, 256, 5, 16_384, 1),
            (None, 1, 0, 16_384, 1),
            (None, 1, 5, 16_384, 0),
            (None, 1, 5, 0, 1),
            (Some(vec![1000]), 1, 5, 5_003, 1),
            (Some(vec![1000]), 1, 5, (1 << 24) + 1, 1),
        ];
        for (ks, max_extra, trials, esi_end, threads) in cases {
            let options = Options { ks, max_extra, trials, seed: 1, esi_end, threads };
            assert!(matches!(run(&out, options), Err(Failure::BadInput(_))));
        }
        assert!(!out.exists());
    }
}
