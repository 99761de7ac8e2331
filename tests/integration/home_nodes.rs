//! Home nodes in a run: their NAT types follow the configured mix, their
//! availability the on/off closed form, their usable upload its bounds, and
//! adding them changes nothing about the stream's delivery.

use std::path::Path;

use cdnsim_metrics::table::read_parquet;

use crate::common::*;

const HOME_CHURN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/home_churn.toml");

#[test]
fn nat_mix_availability_and_capacity_follow_the_model() {
    let dir = temp_dir("home");
    let run = run_ok(Path::new(HOME_CHURN), &dir, &[], &[]);
    let homes = read_parquet(&run.join("home_nodes.parquet")).unwrap();
    let n = homes.height() as f64;
    assert_eq!(n, 6000.0);

    // NAT mix 10/25/40/25 % (docs/references.md, NAT mix): each share
    // within 4 binomial sd.
    let nat = homes.column("nat").unwrap().str().unwrap();
    for (name, p) in [("NAT1", 0.10), ("NAT2", 0.25), ("NAT3", 0.40), ("NAT4", 0.25)] {
        let k = nat.iter().filter(|x| *x == Some(name)).count() as f64;
        let sd = (n * p * (1.0 - p)).sqrt();
        assert!((k - n * p).abs() < 4.0 * sd, "{name}: {k} of {n}, expected {}", n * p);
    }

    // Availability: E[on] = 40 min (Weibull), E[off] = 3 min x e^(1/2)
    // (log-normal, median 3 min, sigma 1). Nodes start in steady state, so
    // the time-average online share over any window has this mean. Per-node
    // online fractions are independent and within [0, 1] (sd <= 1/2), so
    // the mean over n nodes has se <= 0.5 / sqrt(n); allow 4 se.
    let off_mean_min = 3.0 * 0.5f64.exp();
    let availability = 40.0 / (40.0 + off_mean_min);
    let s = read_parquet(&run.join("summary.parquet")).unwrap();
    let online_mean = s.column("home_nodes_online_mean").unwrap().f64().unwrap().get(0).unwrap();
    let share = online_mean / n;
    let tol = 4.0 * 0.5 / n.sqrt();
    assert!((share - availability).abs() < tol, "online share {share}, expected {availability} +- {tol}");
    let ts = read_parquet(&run.join("timeseries.parquet")).unwrap();
    let active = ts.column("active_home_nodes").unwrap().u64().unwrap();
    assert!(active.iter().flatten().all(|a| a as f64 <= n));
    assert!(active.iter().flatten().collect::<std::collections::BTreeSet<_>>().len() > 10, "the count moves with churn");

    // Usable upload: 0 offline; online, base x diurnal(20:30, between
    // 0.38 and 0.44) x household level (0.8..1.2).
    let base = homes.column("base_upload_bps").unwrap().u64().unwrap();
    let now = homes.column("upload_at_end_bps").unwrap().u64().unwrap();
    let online = homes.column("online_at_end").unwrap().bool().unwrap();
    for i in 0..homes.height() {
        let (b, u, on) = (base.get(i).unwrap() as f64, now.get(i).unwrap() as f64, online.get(i).unwrap());
        assert!((10e6..=100e6).contains(&b), "base upload {b}");
        if on {
            assert!(u >= b * 0.38 * 0.8 - 1.0 && u <= b * 0.44 * 1.2 + 1.0, "node {i}: {u} of {b}");
        } else {
            assert_eq!(u, 0.0);
        }
    }
}

#[test]
fn home_nodes_do_not_perturb_the_stream() {
    // The same tree and audience with and without 6,000 churning home
    // nodes: home nodes draw from their own streams and do not carry the
    // stream yet, so every viewer's session must be the same to the byte.
    let dir = temp_dir("home-perturb");
    let text = std::fs::read_to_string(HOME_CHURN).unwrap();
    let without = text[..text.find("\n[home]").unwrap()].to_string();
    let f = dir.join("without.toml");
    std::fs::write(&f, without).unwrap();
    let a = run_ok(Path::new(HOME_CHURN), &dir.join("a"), &[], &[]);
    let b = run_ok(&f, &dir.join("b"), &[], &[]);
    assert!(read(&a.join("viewers.parquet")) == read(&b.join("viewers.parquet")));
    assert!(!b.join("home_nodes.parquet").exists());
    let ts = read_parquet(&b.join("timeseries.parquet")).unwrap();
    assert!(ts.column("active_home_nodes").unwrap().u64().unwrap().iter().all(|x| x == Some(0)));
}

#[test]
fn bad_home_parameters_are_located() {
    let dir = temp_dir("home-bad");
    let text = std::fs::read_to_string(HOME_CHURN).unwrap();
    for (from, to, field, what) in [
        ("nat_mix = [0.10, 0.25, 0.40, 0.25]", "nat_mix = [0.10, 0.25, 0.40, 0.35]", "home.nat_mix", "expected"),
        ("shape = 0.45, mean = \"40 min\"", "shape = 0.45", "home.on_session", "expected exactly one of `mean`, `scale`"),
        ("isp = \"mobile\"\ncount = 300", "isp = \"mobile\"\ncount = -3", "home.regions[7].count", "expected a count"),
    ] {
        assert_eq!(text.matches(from).count(), 1, "{from}");
        let f = dir.join("bad.toml");
        std::fs::write(&f, text.replacen(from, to, 1)).unwrap();
        let o = cdnsim(&["validate", f.to_str().unwrap()], &[]);
        let e = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{e}");
        let line = text[..text.find(from).unwrap()].matches('\n').count() + 1;
        assert!(e.contains(&format!("bad.toml:{line}:")) || field.starts_with("home.regions"), "line {line} in: {e}");
        assert!(e.contains(field) && e.contains(what), "{field} / {what} in: {e}");
    }
}
