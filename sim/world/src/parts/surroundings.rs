//! What a part of the world sees of the rest of it, while one of its calls
//! runs: the clock and the scheduler (for its own events, of type `P`),
//! the delivery of streams to edges, the viewers it serves and the run's
//! byte counters. The world implements it (`world.rs`, `PartCall`); a part
//! knows nothing else of the world, and nothing of the event enum (its
//! events are wrapped into the world's on the way in).

use cdnsim_engine::{Class, SimTime};

use crate::series::Second;

pub trait Surroundings<P> {
    /// The simulated time of the call.
    fn now(&self) -> SimTime;
    /// Schedules the part's `event` at `at` (not before now) in `class`
    /// (`class.rs`); it comes back to the part through the registry.
    fn schedule(&mut self, at: SimTime, class: Class, event: P);
    /// Edge `edge` gains a user of `stream` served by a part: it must carry
    /// the stream.
    fn attach(&mut self, stream: u32, edge: u32);
    /// It loses one; it may let the stream go.
    fn detach(&mut self, stream: u32, edge: u32);
    /// The per-second totals of `stream` for the second `now` falls in.
    fn second(&mut self, now: SimTime, stream: u32) -> &mut Second;
    /// `bytes` of `stream` leave an IDC node.
    fn idc_egress(&mut self, now: SimTime, stream: u32, bytes: u64);
    /// Viewers watching `stream` now, however they are served.
    fn watching(&self, stream: u32) -> u32;
    /// The block viewer `viewer`'s player wants next (0 before its first).
    fn next_play(&self, viewer: u32) -> u32;
    /// `bytes` reach viewer `viewer` from an IDC server (`from_server`) or
    /// a home node; `decoded`: the block they completed, which its player
    /// takes whole.
    fn viewer_receives(&mut self, viewer: u32, bytes: u64, from_server: bool, decoded: Option<u32>);
}
