//! `cdnsim-icount`: the instruction-count gate's runner (see lib.rs;
//! `scripts/icount.sh` is the usual way in).

use std::path::PathBuf;
use std::process::ExitCode;

use cdnsim_icount::gate;
use cdnsim_icount::workloads::{WORKLOADS, find};

const USAGE: &str = "usage: cdnsim-icount <command>
  check [--baseline FILE]   count every workload under callgrind and compare with the baseline
                            (default benches/icount-baseline.toml); exit 1 on a rise over 5%
  update [--baseline FILE]  count every workload and rewrite the baseline
  list                      the workloads
  run WORKLOAD              run one workload once (what callgrind counts)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match dispatch(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn dispatch(args: &[String]) -> Result<ExitCode, String> {
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["check", rest @ ..] => {
            let passed = gate::check(&baseline_path(rest)?)?;
            Ok(if passed { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        ["update", rest @ ..] => {
            gate::update(&baseline_path(rest)?)?;
            Ok(ExitCode::SUCCESS)
        }
        ["list"] => {
            for w in &WORKLOADS {
                println!("{:<18} {}", w.name, w.what);
            }
            Ok(ExitCode::SUCCESS)
        }
        ["run", name] => {
            let names: Vec<&str> = WORKLOADS.iter().map(|w| w.name).collect();
            let w =
                find(name).ok_or_else(|| format!("no workload {name:?}; the workloads are {}", names.join(", ")))?;
            let work = (w.run)().map_err(|e| format!("workload {name}: {e}"))?;
            println!("{work}");
            Ok(ExitCode::SUCCESS)
        }
        _ => Err(format!("unknown arguments {args:?}\n{USAGE}")),
    }
}

fn baseline_path(rest: &[&str]) -> Result<PathBuf, String> {
    match rest {
        [] => Ok(gate::default_baseline()),
        ["--baseline", path] => Ok(PathBuf::from(path)),
        _ => Err(format!("unknown arguments {rest:?}\n{USAGE}")),
    }
}
