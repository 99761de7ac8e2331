//! Counting one workload: this runner started again as `run <workload>`
//! under `valgrind --tool=callgrind`, with collection off at start and
//! toggled on entry to and exit from [`MEASURED_SYMBOL`], so the total in
//! the output file is the measured part alone (no process start-up, input
//! building or output dropping).
//!
//! The runner is started as `./cdnsim-icount` from its own folder: its
//! argv[0] is copied to the heap at start-up, so an absolute path, whose
//! length depends on where the repository is cloned, would shift later
//! allocations and change the counts by up to a few thousand instructions.

use std::path::Path;
use std::process::Command;

use crate::workloads::MEASURED_SYMBOL;

/// The callgrind options of every count; the README quotes them.
pub fn valgrind_args(out_file: &Path) -> Vec<String> {
    vec![
        "--tool=callgrind".to_string(),
        "--collect-atstart=no".to_string(),
        format!("--toggle-collect={MEASURED_SYMBOL}"),
        format!("--callgrind-out-file={}", out_file.display()),
    ]
}

/// Instructions executed inside the measured part of `workload`, and the
/// workload's own account of its work.
pub fn count(exe: &Path, workload: &str, dir: &Path) -> Result<(u64, String), String> {
    let out_file = dir.join(format!("{workload}.callgrind"));
    let (Some(folder), Some(name)) = (exe.parent(), exe.file_name()) else {
        return Err(format!("{}: not a path to a file", exe.display()));
    };
    let output = Command::new("valgrind")
        .args(valgrind_args(&out_file))
        .arg(Path::new(".").join(name))
        .args(["run", workload])
        .current_dir(folder)
        .output()
        .map_err(|e| format!("cannot start valgrind ({e}): install it (scripts/setup.sh does, with apt-get)"))?;
    let stdout = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if !output.status.success() {
        return Err(format!(
            "{workload} under callgrind: {}\n{stdout}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let text = std::fs::read_to_string(&out_file).map_err(|e| format!("{}: {e}", out_file.display()))?;
    let _ = std::fs::remove_file(&out_file);
    let n = total_instructions(&text).map_err(|e| format!("{}: {e}", out_file.display()))?;
    if n == 0 {
        return Err(format!("{workload}: callgrind counted nothing: was {MEASURED_SYMBOL} inlined or renamed?"));
    }
    Ok((n, stdout))
}

/// The `totals:` line of a callgrind output file with the single event Ir
/// (callgrind's default without cache simulation).
pub fn total_instructions(text: &str) -> Result<u64, String> {
    let events = text.lines().find_map(|l| l.strip_prefix("events:")).ok_or("no `events:` line")?;
    if events.split_whitespace().collect::<Vec<_>>() != ["Ir"] {
        return Err(format!("expected the single event Ir, found `events:{events}`"));
    }
    let totals = text.lines().find_map(|l| l.strip_prefix("totals:")).ok_or("no `totals:` line")?;
    totals.trim().parse().map_err(|e| format!("`totals:{totals}`: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_total() {
        let text = "# callgrind format\nversion: 1\ncmd: x run a\npart: 1\n\nevents: Ir\n\nfl=(1) a.rs\nfn=(1) f\n3 10\n\ntotals: 1234567\n";
        assert_eq!(total_instructions(text), Ok(1_234_567));
    }

    #[test]
    fn refuses_other_events_and_truncated_files() {
        assert!(total_instructions("events: Ir Dr Dw\ntotals: 1 2 3\n").unwrap_err().contains("single event"));
        assert!(total_instructions("events: Ir\n").unwrap_err().contains("totals"));
        assert!(total_instructions("totals: 5\n").unwrap_err().contains("events"));
    }
}
