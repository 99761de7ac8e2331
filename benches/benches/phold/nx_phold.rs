//! The same PHOLD on nexosim 1.0: one nexosim model per LP, same
//! configuration, same per-LP streams and draws (from
//! [`cdnsim_benches::PholdConfig`]), so its [`Tally`] up to a stop time must
//! equal the engine's.
//!
//! Routing: a nexosim [`Context`] can only schedule events on its own model,
//! and an output port broadcasts to every connection, so "one delayed event
//! to one of 1000 LPs" has no per-model form short of 1000 outputs per LP.
//! Each LP's input is instead registered as an [`EventSource`], and handlers
//! schedule through the simulation-wide [`Scheduler`] handle, which nexosim
//! documents as shareable. That keeps one scheduler-queue entry per PHOLD
//! event, as on the engine, rather than an extra self-scheduled hop.
//!
//! Handled events are counted per LP in atomics written only by that LP's
//! handler (a relaxed load and store, no read-modify-write), so counting
//! costs about what the engine model's plain field update costs.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use cdnsim_benches::{PholdConfig, Tally};
use cdnsim_engine::{RngStream, SimTime};
use nexosim::model::{BuildContext, Context, Model, ProtoModel};
use nexosim::ports::EventSource;
use nexosim::simulation::{EventId, Mailbox, Scheduler, SimInit, Simulation};
use nexosim::time::MonotonicTime;
use serde::{Deserialize, Serialize};

/// Simulation time zero; engine time t is nexosim time `EPOCH + t`.
const EPOCH: MonotonicTime = MonotonicTime::EPOCH;

/// An LP. Its whole state is in its environment: the generator is not
/// serialisable and nothing here needs nexosim's save/restore.
#[derive(Serialize, Deserialize)]
pub struct Lp;

impl Model for Lp {
    type Env = LpEnv;
}

pub struct LpEnv {
    lp: u32,
    cfg: PholdConfig,
    rng: RngStream,
    /// Set once the simulation exists: the scheduler handle and the event
    /// sources only come into being after the models are added.
    routes: Arc<OnceLock<Routes>>,
    tally: Arc<TallySlot>,
}

struct Routes {
    scheduler: Scheduler,
    lps: Vec<EventId<()>>,
}

#[derive(Default)]
struct TallySlot {
    events: AtomicU64,
    checksum: AtomicU64,
}

impl Lp {
    fn event(&mut self, _: (), cx: &Context<Self>, env: &mut LpEnv) {
        let now = cx.time().duration_since(EPOCH).as_nanos() as u64;
        let slot = &env.tally;
        slot.events.store(slot.events.load(Relaxed) + 1, Relaxed);
        let term = Tally::term(now, env.lp);
        slot.checksum.store(slot.checksum.load(Relaxed).wrapping_add(term), Relaxed);

        let (dest, delay) = env.cfg.draw_hop(&mut env.rng);
        let routes = env.routes.get().expect("routes are set before the first step");
        routes
            .scheduler
            .schedule_event(Duration::from_nanos(delay), &routes.lps[dest as usize], ())
            .expect("the lookahead keeps every delay positive");
    }
}

struct LpProto(LpEnv);

impl ProtoModel for LpProto {
    type Model = Lp;

    fn build(self, _: &mut BuildContext<Self>) -> (Lp, LpEnv) {
        (Lp, self.0)
    }
}

/// A PHOLD run in progress on nexosim.
pub struct NxPhold {
    sim: Simulation,
    tallies: Vec<Arc<TallySlot>>,
}

impl NxPhold {
    /// The initial state on an executor with `threads` worker threads (1
    /// selects nexosim's single-threaded executor).
    pub fn new(cfg: PholdConfig, threads: usize) -> Self {
        let routes = Arc::new(OnceLock::new());
        let mut bench = SimInit::with_num_threads(threads);
        let mut lps = Vec::with_capacity(cfg.lps as usize);
        let mut initial = Vec::with_capacity(cfg.lps as usize);
        let mut tallies = Vec::with_capacity(cfg.lps as usize);
        for lp in 0..cfg.lps {
            let mailbox = Mailbox::new();
            lps.push(EventSource::new().connect(Lp::event, &mailbox).register(&mut bench));
            let mut rng = cfg.lp_stream(lp);
            initial.push(cfg.initial_times(lp, &mut rng));
            let tally = Arc::new(TallySlot::default());
            tallies.push(tally.clone());
            let env = LpEnv { lp, cfg, rng, routes: routes.clone(), tally };
            bench = bench.add_model(LpProto(env), mailbox, &format!("lp{lp}"));
        }
        let sim = bench.init(EPOCH).expect("PHOLD bench assembles");
        let scheduler = sim.scheduler();
        for (id, times) in lps.iter().zip(initial) {
            for t in times {
                scheduler
                    .schedule_event(EPOCH + Duration::from_nanos(t), id, ())
                    .expect("initial events are after time zero");
            }
        }
        assert!(routes.set(Routes { scheduler, lps }).is_ok(), "routes set twice");
        NxPhold { sim, tallies }
    }

    /// Handles every event up to and including `stop` and returns the tally
    /// of those events alone.
    pub fn run_until(&mut self, stop: SimTime) -> Tally {
        let before = self.tally();
        self.sim
            .step_until(EPOCH + Duration::from_nanos(stop.as_ns()))
            .expect("PHOLD steps without error");
        self.tally().since(before)
    }

    pub fn tally(&self) -> Tally {
        self.tallies.iter().fold(Tally::default(), |acc, slot| Tally {
            events: acc.events + slot.events.load(Relaxed),
            checksum: acc.checksum.wrapping_add(slot.checksum.load(Relaxed)),
        })
    }
}
