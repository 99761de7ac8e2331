//! PHOLD throughput, in handled events per second, in one criterion group:
//! the engine and nexosim at 10^3, 10^4 and 10^6 pending events, and the
//! bare radix and heap queues at 10^4 and 10^6 (benches/README.md has the
//! figures).
//!
//! Every pass starts from a state built and warmed up outside the timed
//! part (each initial event handled about once), then handles one window of
//! simulated time holding about [`WINDOW_EVENTS`] events. PHOLD is
//! deterministic, so every pass handles exactly the same events; before
//! timing, one untimed pass per engine checks that nexosim handles the same
//! (time, LP) pairs as the engine, and every timed pass re-checks its tally.

// Under phold/ so that cargo does not take it for a bench target of its own.
#[path = "phold/nx_phold.rs"]
mod nx_phold;

use std::time::{Duration, Instant};

use cdnsim_benches::{EnginePhold, EventQueue, POPULATIONS, PholdConfig, QueuePhold, Tally};
use cdnsim_engine::{HeapQueue, RadixQueue, SimTime};
use criterion::measurement::WallTime;
use criterion::{
    BatchSize, BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group,
    criterion_main,
};
use nx_phold::NxPhold;

const SEED: u64 = 0x5EED_0001;

/// Events per timed pass (about: the window is a span of simulated time).
const WINDOW_EVENTS: u64 = 1_000_000;

/// nexosim runs on its single-threaded executor: the figures compare
/// engines on one core, and PHOLD with distinct timestamps leaves nexosim
/// one event per step, so extra workers would have nothing to run.
const NEXOSIM_THREADS: usize = 1;

/// Pending populations of the queue-only passes.
const QUEUE_POPULATIONS: [u32; 2] = [10_000, 1_000_000];

/// What one untimed pass shows: its result, the time of the pass itself,
/// and the time of a whole criterion iteration (setup + pass + drop), which
/// is what criterion's warm-up measures when it sizes the samples.
struct Probe<T> {
    out: T,
    pass: Duration,
    cycle: Duration,
}

fn probe<S, T>(setup: impl FnOnce() -> S, pass: impl FnOnce(&mut S) -> T) -> Probe<T> {
    let start = Instant::now();
    let mut state = setup();
    let pass_start = Instant::now();
    let out = pass(&mut state);
    let pass = pass_start.elapsed();
    drop(state);
    Probe { out, pass, cycle: start.elapsed() }
}

/// Above this, a criterion iteration is slow enough that one pass per
/// sample (10 in all) is taken rather than two.
const LONG_CYCLE: Duration = Duration::from_secs(2);

/// Sizes warm-up and measurement from one untimed iteration. Two passes per
/// sample where iterations are cheap (criterion warns about flat samples of
/// a single pass); one where rebuilding the state dominates, which keeps
/// the whole group within a few minutes at the price of that warning.
fn fit<T>(group: &mut BenchmarkGroup<'_, WallTime>, p: &Probe<T>) {
    // Half a cycle of warm-up is one iteration. Criterion then takes
    // ceil(measurement / samples / warm-up mean) passes per sample, and that
    // mean is about one cycle: 1.5 cycles per sample give 2, 0.5 give 1.
    group.warm_up_time(p.cycle / 2);
    let cycles_per_sample = if p.cycle > LONG_CYCLE { 0.5 } else { 1.5 };
    group.measurement_time(p.cycle.mul_f64(cycles_per_sample * 10.0));
}

/// One line per untimed pass on stderr: a single-pass figure to set beside
/// criterion's, and the check that the engines agree, made visible.
fn report_probe<T>(name: &str, pending: u32, p: &Probe<T>, events: u64) {
    eprintln!(
        "probe phold/{name}/{pending}: {events} events in {:.3} s ({:.2} M events/s), iteration {:.2} s",
        p.pass.as_secs_f64(),
        events as f64 / p.pass.as_secs_f64() / 1e6,
        p.cycle.as_secs_f64(),
    );
}

fn queue_window<Q: EventQueue<u32>>(p: &mut QueuePhold<Q>) -> Tally {
    let before = p.tally();
    p.run_events(WINDOW_EVENTS);
    p.tally().since(before)
}

/// The timed part of a queue-only pass; returns the state so that
/// criterion drops it outside the timing.
fn queue_pass<Q: EventQueue<u32>>(mut p: QueuePhold<Q>) -> QueuePhold<Q> {
    p.run_events(WINDOW_EVENTS);
    p
}

fn phold(c: &mut Criterion) {
    let mut group = c.benchmark_group("phold");
    group.sample_size(10).sampling_mode(SamplingMode::Flat);

    for pending in POPULATIONS {
        let cfg = PholdConfig::new(pending, SEED);
        let warm = cfg.warm_up_stop();
        let stop = SimTime::from_ns(warm.as_ns() + cfg.span_for(WINDOW_EVENTS));
        let engine_warm = move || {
            let mut p = EnginePhold::new(cfg);
            p.run_until(warm).expect("PHOLD stays within its pending bound");
            p
        };
        let nexosim_warm = move || {
            let mut p = NxPhold::new(cfg, NEXOSIM_THREADS);
            p.run_until(warm);
            p
        };

        let engine_probe = probe(engine_warm, |p| p.run_until(stop).expect("within bound"));
        let nexosim_probe = probe(nexosim_warm, |p| p.run_until(stop));
        let expected = engine_probe.out;
        assert_eq!(
            nexosim_probe.out, expected,
            "nexosim and the engine differ at {pending} pending"
        );
        report_probe("engine", pending, &engine_probe, expected.events);
        report_probe("nexosim", pending, &nexosim_probe, expected.events);
        group.throughput(Throughput::Elements(expected.events));

        fit(&mut group, &engine_probe);
        group.bench_function(BenchmarkId::new("engine", pending), |b| {
            b.iter_batched(
                engine_warm,
                |mut p| {
                    assert_eq!(p.run_until(stop).expect("within bound"), expected);
                    p
                },
                BatchSize::PerIteration,
            )
        });

        fit(&mut group, &nexosim_probe);
        group.bench_function(BenchmarkId::new("nexosim", pending), |b| {
            b.iter_batched(
                nexosim_warm,
                |mut p| {
                    assert_eq!(p.run_until(stop), expected);
                    p
                },
                BatchSize::PerIteration,
            )
        });
    }

    // The queues alone: at 10^6, where the engine's choice of a radix queue
    // is made, and at 10^4, where a heap's working set still fits in cache.
    // A fixed count of events per pass, since a bare loop can stop at any
    // event.
    for pending in QUEUE_POPULATIONS {
        let cfg = PholdConfig::new(pending, SEED);
        let radix_warm = move || {
            let mut p = QueuePhold::new(cfg, RadixQueue::new());
            p.run_events(pending as u64);
            p
        };
        let heap_warm = move || {
            let mut p = QueuePhold::new(cfg, HeapQueue::new());
            p.run_events(pending as u64);
            p
        };
        let radix_probe = probe(radix_warm, queue_window);
        let heap_probe = probe(heap_warm, queue_window);
        assert_eq!(radix_probe.out, heap_probe.out, "radix and heap queues differ at {pending}");
        report_probe("queue-radix", pending, &radix_probe, WINDOW_EVENTS);
        report_probe("queue-heap", pending, &heap_probe, WINDOW_EVENTS);
        group.throughput(Throughput::Elements(WINDOW_EVENTS));

        fit(&mut group, &radix_probe);
        group.bench_function(BenchmarkId::new("queue-radix", pending), |b| {
            b.iter_batched(radix_warm, queue_pass, BatchSize::PerIteration)
        });

        fit(&mut group, &heap_probe);
        group.bench_function(BenchmarkId::new("queue-heap", pending), |b| {
            b.iter_batched(heap_warm, queue_pass, BatchSize::PerIteration)
        });
    }

    group.finish();
}

criterion_group!(benches, phold);
criterion_main!(benches);
