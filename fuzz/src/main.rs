//! `cdnsim-fuzz`: runs a fuzz campaign, replays inputs, prints one input.
//!
//! ```text
//! cdnsim-fuzz TARGET|all [--iterations N] [--seed S] [--start I]
//!             [--budget-ms MS] [--point-ms MS] [--run-us US] [--memory-mib M]
//!             [--stall-s S] [--out DIR]
//! cdnsim-fuzz replay TARGET FILE...
//! cdnsim-fuzz show TARGET --seed S --index I
//! ```
//!
//! A campaign runs in a worker process that this one supervises. The worker
//! announces each input's index before running it, so when it dies (a
//! stack overflow or an allocation past the cap aborts the process) or
//! stops answering (killed after `--stall-s`), the supervisor regenerates
//! that input from (target, seed, index), saves it, and starts a new worker
//! at the next index. Findings are written to `--out` (default
//! `fuzz-findings/`) as the input plus a `.txt` with what went wrong and how
//! to replay it. Exit code: 0 without findings, 1 with, 2 on bad arguments.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use cdnsim_fuzz::{Finding, Limits, Target, alloc, capture_panics, run_one};

#[global_allocator]
static ALLOC: alloc::Counting = alloc::Counting;

/// Above what was live at the start, allocation fails (and the worker
/// aborts) past this: far over the per-input budget, well under the
/// machine's memory.
const HARD_CAP_BYTES: usize = 4 << 30;

struct Args {
    targets: Vec<Target>,
    iterations: u64,
    seed: u64,
    start: u64,
    limits: Limits,
    stall: Duration,
    out: PathBuf,
    worker: bool,
}

const USAGE: &str = "usage: cdnsim-fuzz TARGET|all [--iterations N] [--seed S] [--start I] [--budget-ms MS] [--point-ms MS] [--run-us US] [--memory-mib M] [--stall-s S] [--out DIR]
       cdnsim-fuzz replay TARGET FILE...
       cdnsim-fuzz show TARGET --seed S --index I
targets: scenario, topology, sweep, decode-table";

fn bad(message: String) -> ExitCode {
    eprintln!("cdnsim-fuzz: {message}\n{USAGE}");
    ExitCode::from(2)
}

fn target(name: &str) -> Result<Target, String> {
    Target::from_name(name).ok_or_else(|| format!("expected a target (scenario, topology, sweep, decode-table, edge), found {name:?}"))
}

fn parse_args(argv: &[String]) -> Result<Args, String> {
    let mut it = argv.iter();
    let first = it.next().ok_or("expected a target")?;
    let targets = match first.as_str() {
        "all" => Target::ALL.to_vec(),
        t => vec![target(t)?],
    };
    let mut a = Args {
        targets,
        iterations: 10_000,
        seed: 1,
        start: 0,
        limits: Limits::default(),
        stall: Duration::from_secs(30),
        out: PathBuf::from("fuzz-findings"),
        worker: false,
    };
    while let Some(flag) = it.next() {
        if flag == "--worker" {
            a.worker = true;
            continue;
        }
        let value = it.next().ok_or_else(|| format!("{flag} expects a value"))?;
        let num = || value.parse::<u64>().map_err(|_| format!("{flag} expects a whole number, found {value:?}"));
        match flag.as_str() {
            "--iterations" => a.iterations = num()?,
            "--seed" => a.seed = num()?,
            "--start" => a.start = num()?,
            "--budget-ms" => a.limits.time = Duration::from_millis(num()?),
            "--point-ms" => a.limits.time_per_point = Duration::from_millis(num()?),
            "--run-us" => a.limits.time_per_run = Duration::from_micros(num()?),
            "--memory-mib" => a.limits.memory_bytes = (num()? as usize) << 20,
            "--stall-s" => a.stall = Duration::from_secs(num()?),
            "--out" => a.out = PathBuf::from(value),
            _ => return Err(format!("unknown option {flag:?}")),
        }
    }
    Ok(a)
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    match argv.first().map(String::as_str) {
        Some("replay") if argv.len() >= 3 => replay(&argv[1], &argv[2..]),
        Some("show") => show(&argv[1..]),
        Some("-h" | "--help") | None => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => match parse_args(&argv) {
            Err(e) => bad(e),
            Ok(a) if a.worker => worker(&a),
            Ok(a) => supervise(&a),
        },
    }
}

/// Runs files through a target and prints each verdict.
fn replay(name: &str, files: &[String]) -> ExitCode {
    let t = match target(name) {
        Ok(t) => t,
        Err(e) => return bad(e),
    };
    capture_panics();
    let mut failed = false;
    for f in files {
        let input = match std::fs::read(f) {
            Ok(b) => b,
            Err(e) => return bad(format!("{f}: {e}")),
        };
        let r = run_one(t, &input, Limits::default());
        match &r.result {
            Ok(o) => println!("{f}: ok ({:.1} ms CPU, {:.1} ms wall): {o:?}", r.cpu.as_secs_f64() * 1e3, r.elapsed.as_secs_f64() * 1e3),
            Err(finding) => {
                failed = true;
                println!("{f}: FINDING {}: {}", finding.kind, finding.message);
            }
        }
    }
    if failed { ExitCode::from(1) } else { ExitCode::SUCCESS }
}

/// Writes input `--index` of `--seed` to stdout.
fn show(argv: &[String]) -> ExitCode {
    let (Some(name), rest) = (argv.first(), argv.get(1..).unwrap_or(&[])) else { return bad("show expects a target".into()) };
    let t = match target(name) {
        Ok(t) => t,
        Err(e) => return bad(e),
    };
    let (mut seed, mut index) = (1u64, 0u64);
    for pair in rest.chunks(2) {
        let v = pair.get(1).and_then(|v| v.parse::<u64>().ok());
        match (pair[0].as_str(), v) {
            ("--seed", Some(v)) => seed = v,
            ("--index", Some(v)) => index = v,
            _ => return bad(format!("show: unexpected {:?}", pair.join(" "))),
        }
    }
    std::io::stdout().write_all(&t.input(&t.mutator(), seed, index)).expect("stdout");
    ExitCode::SUCCESS
}

/// Saves a finding: the input, and a note with the message and the replay
/// commands.
fn record(out: &Path, t: Target, seed: u64, index: u64, input: &[u8], f: &Finding) {
    let dir = out.join(t.name());
    std::fs::create_dir_all(&dir).expect("the findings folder is writable");
    let stem = format!("{}-seed{seed}-{index}", f.kind);
    let file = dir.join(format!("{stem}.{}", t.ext()));
    std::fs::write(&file, input).expect("the findings folder is writable");
    let note = format!(
        "target: {}\nkind: {}\nseed: {seed}\nindex: {index}\n\n{}\n\nreplay: cdnsim-fuzz replay {} {}\nregenerate: cdnsim-fuzz show {} --seed {seed} --index {index}\n",
        t.name(),
        f.kind,
        f.message,
        t.name(),
        file.display(),
        t.name()
    );
    std::fs::write(dir.join(format!("{stem}.txt")), note).expect("the findings folder is writable");
}

/// The worker: inputs `start..start + iterations`, one protocol line per
/// event on stdout (`at I`, `finding I KIND`, `progress ...`, `done ...`).
fn worker(a: &Args) -> ExitCode {
    let t = a.targets[0];
    capture_panics();
    alloc::set_cap(alloc::live_bytes() + HARD_CAP_BYTES);
    let mutator = t.mutator();
    let mut out = std::io::stdout().lock();
    let (mut accepted, mut refused, mut findings) = (0u64, 0u64, 0u64);
    let (mut slowest, mut peak) = (Duration::ZERO, 0usize);
    let started = Instant::now();
    let mut last_progress = Instant::now();
    for index in a.start..a.start + a.iterations {
        let input = t.input(&mutator, a.seed, index);
        writeln!(out, "at {index}").and_then(|_| out.flush()).expect("the supervisor reads stdout");
        let r = run_one(t, &input, a.limits);
        slowest = slowest.max(r.cpu);
        peak = peak.max(r.peak_bytes);
        match &r.result {
            Ok(cdnsim_fuzz::Outcome::Accepted { .. }) => accepted += 1,
            Ok(cdnsim_fuzz::Outcome::Refused(_)) => refused += 1,
            Err(f) => {
                findings += 1;
                record(&a.out, t, a.seed, index, &input, f);
                writeln!(out, "finding {index} {}", f.kind).expect("the supervisor reads stdout");
            }
        }
        if last_progress.elapsed() > Duration::from_secs(30) {
            last_progress = Instant::now();
            let done = index + 1 - a.start;
            writeln!(out, "progress {}: {done} inputs in {:.0} s, {findings} findings", t.name(), started.elapsed().as_secs_f64())
                .expect("the supervisor reads stdout");
        }
    }
    writeln!(out, "done {accepted} {refused} {findings} {} {peak}", slowest.as_micros()).expect("the supervisor reads stdout");
    ExitCode::SUCCESS
}

/// Per-target totals over all the workers a campaign took.
#[derive(Default)]
struct Totals {
    inputs: u64,
    accepted: u64,
    refused: u64,
    findings: Vec<(u64, String)>,
    slowest_us: u64,
    peak_bytes: u64,
}

fn supervise(a: &Args) -> ExitCode {
    let exe = std::env::current_exe().expect("the running binary's path");
    let mut any = false;
    println!("target        inputs   accepted    refused  findings   time_s  inputs/s  slowest_cpu_ms  peak_MiB");
    for &t in &a.targets {
        let started = Instant::now();
        let mut tot = Totals::default();
        let mut next = a.start;
        let end = a.start + a.iterations;
        while next < end {
            let mut child = Command::new(&exe)
                .arg(t.name())
                .args(["--worker", "--start", &next.to_string(), "--iterations", &(end - next).to_string()])
                .args(["--seed", &a.seed.to_string(), "--budget-ms", &a.limits.time.as_millis().to_string()])
                .args(["--point-ms", &a.limits.time_per_point.as_millis().to_string()])
                .args(["--run-us", &a.limits.time_per_run.as_micros().to_string()])
                .args(["--memory-mib", &(a.limits.memory_bytes >> 20).to_string(), "--out"])
                .arg(&a.out)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("the worker starts");
            let (tx, rx) = mpsc::channel::<String>();
            let stdout = child.stdout.take().expect("piped");
            let reader = std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
            let mut stderr = child.stderr.take().expect("piped");
            let err_reader = std::thread::spawn(move || {
                let mut s = String::new();
                let _ = stderr.read_to_string(&mut s);
                s
            });
            let mut current = next;
            let mut finished = false;
            let mut stalled = false;
            loop {
                match rx.recv_timeout(a.stall) {
                    Ok(line) => {
                        let mut w = line.split(' ');
                        match w.next() {
                            Some("at") => current = w.next().and_then(|v| v.parse().ok()).unwrap_or(current),
                            Some("finding") => tot.findings.push((current, w.nth(1).unwrap_or("?").to_string())),
                            Some("progress") => eprintln!("{line}"),
                            Some("done") => {
                                let v: Vec<u64> = w.filter_map(|x| x.parse().ok()).collect();
                                if let [acc, refu, _, slow, peak] = v[..] {
                                    tot.accepted += acc;
                                    tot.refused += refu;
                                    tot.slowest_us = tot.slowest_us.max(slow);
                                    tot.peak_bytes = tot.peak_bytes.max(peak);
                                }
                                finished = true;
                            }
                            _ => {}
                        }
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        stalled = true;
                        // Our own worker, by its handle.
                        let _ = child.kill();
                        break;
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                }
            }
            let status = child.wait().expect("the worker is waited for");
            let _ = reader.join();
            let stderr = err_reader.join().unwrap_or_default();
            if finished && status.success() {
                break;
            }
            let input = t.input(&t.mutator(), a.seed, current);
            let tail: String = stderr.lines().rev().take(6).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n");
            let f = if stalled {
                Finding { kind: "stall".into(), message: format!("no answer for {} s; killed", a.stall.as_secs()) }
            } else {
                Finding { kind: "abort".into(), message: format!("the worker died ({status}):\n{tail}") }
            };
            record(&a.out, t, a.seed, current, &input, &f);
            tot.findings.push((current, f.kind.clone()));
            // The dead worker's accepted/refused counts are lost with it
            // (its inputs ran; `inputs` counts them).
            next = current + 1;
        }
        tot.inputs = a.iterations;
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{:<12} {:>7} {:>10} {:>10} {:>9} {:>8.1} {:>9.0} {:>15.1} {:>9.1}",
            t.name(),
            tot.inputs,
            tot.accepted,
            tot.refused,
            tot.findings.len(),
            secs,
            tot.inputs as f64 / secs,
            tot.slowest_us as f64 / 1e3,
            tot.peak_bytes as f64 / (1 << 20) as f64
        );
        let mut kinds: std::collections::BTreeMap<&str, Vec<u64>> = std::collections::BTreeMap::new();
        for (i, kind) in &tot.findings {
            kinds.entry(kind).or_default().push(*i);
        }
        for (kind, at) in kinds {
            let first: Vec<String> = at.iter().take(5).map(|i| i.to_string()).collect();
            let more = if at.len() > 5 { ", ..." } else { "" };
            println!("  {} {kind}: {} (indices {}{more}; seed {}), saved in {}", t.name(), at.len(), first.join(", "), a.seed, a.out.join(t.name()).display());
        }
        any |= !tot.findings.is_empty();
    }
    if any { ExitCode::from(1) } else { ExitCode::SUCCESS }
}
