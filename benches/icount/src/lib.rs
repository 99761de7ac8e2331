//! The instruction-count gate: small workloads of the engine, codec,
//! routing and world crates, each counted under callgrind and compared
//! with a baseline committed in the repository (`benches/icount-baseline.toml`);
//! `scripts/icount.sh` runs it and CI calls that script. Criterion's
//! timings (`benches/benches`) are for people; counts are for the gate,
//! because they do not move with the load on a shared machine.
//!
//! Module map:
//! - [`workloads`]: what is counted ([`workloads::WORKLOADS`]), and the one
//!   function ([`workloads::measured`]) whose inside is counted.
//! - [`callgrind`]: running one workload under valgrind and reading the count.
//! - [`baseline`]: the baseline file, the threshold and the verdict table.
//! - [`gate`]: `check` and `update` over every workload.
//! - `china`: the China overlay graph of the routing workload.

pub mod baseline;
pub mod callgrind;
pub mod gate;
pub mod workloads;
