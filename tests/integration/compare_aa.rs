//! `cdnsim compare` on A/A comparisons: the same code and seeds give exact
//! zeros and "no change"; the same code with other seeds flags a change in
//! about 5% of (point, metric) pairs, the rate a 95% interval promises.

use std::path::Path;

use cdnsim_metrics::read_parquet;

use crate::common::*;
use crate::sweep::{cdnsim_code, sweep_scenario};

const FOUR_POINTS: &str = "[sweep]\nreplications = 5\n\"viewers.arrivals_per_s\" = [2.0, 3.0, 4.0, 5.0]\n";

pub fn run_into(file: &Path, out: &Path, seed: u64) -> String {
    let (f, o, s) = (file.to_str().unwrap(), out.to_str().unwrap(), seed.to_string());
    cdnsim_code(&["run", f, "--out", o, "--seed", &s, "--no-progress"], &[], 0);
    out.join("quickstart").to_str().unwrap().to_string()
}

#[test]
fn same_code_and_seeds_give_zero_differences_and_no_change() {
    let dir = temp_dir("compare-aa-same");
    let file = sweep_scenario(&dir, "aa", "20 s", FOUR_POINTS);
    let a = run_into(&file, &dir.join("a"), 7);
    let b = run_into(&file, &dir.join("b"), 7);
    let out = dir.join("cmp");
    let text = cdnsim_code(&["compare", &a, &b, "--out", out.to_str().unwrap(), "--gate", "stall_ratio:0%"], &[], 0);
    let t = read_parquet(&out.join("compare.parquet")).unwrap();
    let verdicts = strs(&t, "verdict");
    assert!(verdicts.len() > 4 * 40, "every numeric metric at 4 points, found {} rows", verdicts.len());
    assert!(verdicts.iter().all(|v| v == "no change"), "{text}");
    // Differences are exactly zero wherever both runs have a value.
    for d in col(&t, "diff") {
        assert!(d == 0.0 || d.is_nan(), "difference {d}");
    }
    assert!(text.contains(&format!("no change {}", verdicts.len())), "{text}");
    assert!(out.join("compare_change.png").exists() && out.join("compare_change.svg").exists());
}

/// Independent seeds (`seeds = "independent"`, base seed 1 against base
/// seed 2): 60 independent units, 3 arrival rates x 20 copies of each
/// (`run.description` swept, which changes no behaviour but gives every
/// copy its own seeds), 4 replications each, judged unpaired (Welch, the
/// verdict with `--unpaired`) and paired (the paired interval on
/// independent pairs is valid too, just not narrower).
///
/// The bound: metrics of one point are correlated (viewer bytes and IDC
/// egress move together), so (point, metric) pairs are not independent
/// trials. The points are: each of the N units has a flagged share f_i in
/// [0, 1] with mean 0.05 under a calibrated test, so var(f_i) <= 0.05 x
/// 0.95 whatever the correlation inside a unit, and the mean of the f_i
/// has sd <= sqrt(0.05 x 0.95 / N) (0.028 at N = 60). The test allows the
/// mean 3 such sd above 5%. An interval too wide would pass this bound;
/// the power check (intervals narrowed on purpose) is in the report.
#[test]
fn independent_seeds_flag_a_change_in_about_five_percent_of_pairs() {
    let dir = temp_dir("compare-aa-independent");
    let copies: Vec<String> = (0..20).map(|i| format!("\"copy {i}\"")).collect();
    let sweep = format!(
        "[sweep]\nreplications = 4\nseeds = \"independent\"\n\"viewers.arrivals_per_s\" = [2.0, 3.5, 5.0]\n\"run.description\" = [{}]\n",
        copies.join(", ")
    );
    let file = sweep_scenario(&dir, "aa", "20 s", &sweep);
    let a = run_into(&file, &dir.join("a"), 1);
    let b = run_into(&file, &dir.join("b"), 2);
    let out = dir.join("cmp");
    // Paired comparison refuses: the seeds differ.
    let refused = cdnsim_code(&["compare", &a, &b, "--out", out.to_str().unwrap()], &[], 2);
    assert!(refused.contains("seed") && refused.contains("--unpaired"), "{refused}");
    cdnsim_code(&["compare", &a, &b, "--unpaired", "--out", out.to_str().unwrap()], &[], 0);
    let t = read_parquet(&out.join("compare.parquet")).unwrap();
    let (verdicts, rate, copy) = (strs(&t, "verdict"), col(&t, "viewers.arrivals_per_s"), strs(&t, "run.description"));
    let (plo, phi) = (col(&t, "paired_ci95_low"), col(&t, "paired_ci95_high"));
    let mut units: Vec<(f64, f64)> = Vec::new(); // (Welch share, paired share)
    let (mut pooled, mut pooled_paired, mut informative) = (0usize, 0usize, 0usize);
    for p in [2.0, 3.5, 5.0] {
        for c in &copies {
            let c = c.trim_matches('"');
            // Metrics identical on both sides (constants such as
            // duration_s) cannot be flagged and say nothing of the rate.
            let rows: Vec<usize> = (0..t.height()).filter(|&i| rate[i] == p && copy[i] == c && verdicts[i] != "no change").collect();
            assert!(rows.len() >= 10, "point ({p}, {c}): {} informative metrics", rows.len());
            let flagged = rows.iter().filter(|&&i| ["better", "worse", "changed"].contains(&verdicts[i].as_str())).count();
            let flagged_paired = rows.iter().filter(|&&i| plo[i] > 0.0 || phi[i] < 0.0).count();
            units.push((flagged as f64 / rows.len() as f64, flagged_paired as f64 / rows.len() as f64));
            pooled += flagged;
            pooled_paired += flagged_paired;
            informative += rows.len();
        }
    }
    let n = units.len() as f64;
    let mean = units.iter().map(|u| u.0).sum::<f64>() / n;
    let mean_paired = units.iter().map(|u| u.1).sum::<f64>() / n;
    let bound = 0.05 + 3.0 * (0.05f64 * 0.95 / n).sqrt();
    eprintln!(
        "A/A false-positive rate over {} units ({informative} informative (point, metric) pairs): \
         Welch {mean:.4} (pooled {pooled}/{informative}), paired {mean_paired:.4} (pooled {pooled_paired}/{informative}); bound {bound:.4}",
        units.len()
    );
    assert!(mean <= bound, "Welch flags {mean:.4} of pairs, more than {bound:.4}");
    assert!(mean_paired <= bound, "paired flags {mean_paired:.4} of pairs, more than {bound:.4}");
}
