//! Backbone links as shared resources: per link and direction one bounded
//! drop-tail FIFO at the link's capacity, which every overlay link whose
//! backbone path crosses it queues in. So two overlay links over one
//! corridor segment or interconnect compete for it, and its queueing delay
//! and drops grow with the load of everything crossing it.
//!
//! Sans-IO like [`crate::fifo`]: [`SharedLinks::offer`] takes the time the
//! chunk's first bit reaches the link and answers when its last bit leaves
//! (or that it was dropped); the caller schedules the rest. Offers to one
//! direction must come in non-decreasing time (the world offers at the
//! event where the chunk reaches the link, so they do): a FIFO offered a
//! time earlier than one it already accepted would serve out of order.
//!
//! Bookkeeping, per direction: totals since the start (for the
//! conservation identity bytes in = bytes out + dropped + queued, where
//! "out" is counted when a message's entry retires, independently of the
//! other terms) and per simulated second of the offer (for
//! `backbone.parquet`). Seconds are allocated at a direction's first offer,
//! so directions no traffic crosses cost one empty `Vec`.

use cdnsim_engine::{SimDuration, SimTime};

use crate::fifo::{Fifo, Offer};

/// One direction of a shared link: `2 * link + 0` from the link's `a` end
/// to `b`, `2 * link + 1` back. The link index is the caller's (the
/// scenario's table of backbone links an overlay rides).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SharedDir(pub u32);

impl SharedDir {
    pub fn new(link: u32, reverse: bool) -> Self {
        SharedDir(2 * link + reverse as u32)
    }

    pub fn link(self) -> u32 {
        self.0 / 2
    }

    /// True for the `b` -> `a` direction.
    pub fn is_reverse(self) -> bool {
        self.0 % 2 == 1
    }

    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// What a shared link did with a chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    /// Accepted: its transmission starts at `start` (after the queue
    /// ahead of it) and its last bit leaves at `depart`.
    Through { start: SimTime, depart: SimTime },
    /// The queue was full (drop-tail): it goes no further.
    Dropped,
}

/// Totals of one direction since the start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Offered, accepted or not.
    pub bytes_in: u64,
    pub chunks_in: u64,
    pub bytes_dropped: u64,
    pub chunks_dropped: u64,
    /// Summed over accepted chunks: time from reaching the link to the
    /// start of its transmission.
    pub wait_ns: u64,
}

/// What one direction did in one simulated second, by the time of the
/// offer (a chunk offered in second s counts in s even if it leaves in
/// s + 1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SecondStats {
    pub bytes_accepted: u64,
    pub chunks_accepted: u64,
    pub bytes_dropped: u64,
    pub chunks_dropped: u64,
    pub wait_ns_sum: u64,
    pub wait_ns_max: u64,
}

/// Where a direction's bytes are at some instant: `bytes_in = bytes_out +
/// bytes_dropped + bytes_queued` always (see [`SharedLinks::balance`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Balance {
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub bytes_dropped: u64,
    pub bytes_queued: u64,
}

#[derive(Clone, Debug)]
struct Direction {
    /// The link's full rate (the FIFO sends at what background load
    /// leaves of it).
    capacity_bps: u64,
    /// The queue limit at full rate (the FIFO holds what background load
    /// leaves of it).
    queue_bytes: u64,
    fifo: Fifo,
    totals: Totals,
    seconds: Vec<SecondStats>,
    /// The integral of the wait a packet of no size would meet (the
    /// FIFO's backlog in time, `busy_until - t`), ns x ns, up to
    /// `area_at`: what probes sent at random instants average to.
    wait_area: u128,
    area_at: SimTime,
}

impl Direction {
    /// Adds the wait integral from `area_at` to `now` (the backlog only
    /// drains in between: offers come at events, and each accrues first).
    fn accrue(&mut self, now: SimTime) {
        if now <= self.area_at {
            return;
        }
        let busy = self.fifo.busy_until().as_ns() as u128;
        let (a, b) = (busy.saturating_sub(self.area_at.as_ns() as u128), busy.saturating_sub(now.as_ns() as u128));
        self.wait_area += (a * a - b * b) / 2;
        self.area_at = now;
    }
}

/// Every shared link direction of a run.
#[derive(Clone, Debug)]
pub struct SharedLinks {
    dirs: Vec<Direction>,
    /// Rows per direction of the per-second table; an offer at or past the
    /// end counts in the last row (as the world's per-second series do).
    seconds: usize,
    /// Per link, the share of its capacity background traffic takes
    /// (none: the link is the video's alone).
    background: Vec<Option<DailyShare>>,
}

/// A share of capacity by local hour of the day: `hourly[h]` at the start
/// of hour `h`, linear in between, wrapping at midnight; the run's time
/// zero is local hour `start_hour`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DailyShare {
    pub start_hour: u32,
    pub hourly: [f64; 24],
}

impl DailyShare {
    const HOUR_NS: u64 = 3_600_000_000_000;

    /// The share at `t`.
    pub fn at(&self, t: SimTime) -> f64 {
        let t = t.as_ns() + self.start_hour as u64 * Self::HOUR_NS;
        let h = ((t / Self::HOUR_NS) % 24) as usize;
        let frac = (t % Self::HOUR_NS) as f64 / Self::HOUR_NS as f64;
        self.hourly[h] + (self.hourly[(h + 1) % 24] - self.hourly[h]) * frac
    }
}

impl SharedLinks {
    /// Links given as (capacity, queue limit); both directions of a link
    /// get the same. `seconds` >= 1 is the length of the per-second table.
    pub fn new(links: impl IntoIterator<Item = (u64, u64)>, seconds: usize) -> Self {
        assert!(seconds >= 1, "at least one second of statistics");
        let mut dirs = Vec::new();
        for (capacity_bps, queue_bytes) in links {
            for _ in 0..2 {
                dirs.push(Direction {
                    capacity_bps,
                    queue_bytes,
                    fifo: Fifo::new(capacity_bps, queue_bytes),
                    totals: Totals::default(),
                    seconds: Vec::new(),
                    wait_area: 0,
                    area_at: SimTime::ZERO,
                });
            }
        }
        let background = (0..dirs.len() / 2).map(|_| None).collect();
        SharedLinks { dirs, seconds, background }
    }

    /// Background load on `link` (both directions): `share.at(t)` in
    /// [0, 1) of its capacity is taken by other traffic at `t`, as a fluid
    /// (it adds no burst of its own). A chunk offered at `t` is sent at
    /// what is left, `capacity x (1 - share)`, and finds room in what the
    /// background leaves of the buffer, `queue x (1 - share)`: in a FIFO
    /// shared with a fluid at share b, the background that arrives while
    /// video waits queues behind it, b/(1-b) bytes per video byte, so the
    /// whole buffer holds video and background in that ratio. The longest
    /// wait stays the buffer's at line rate, queue / capacity, whatever the
    /// background (a buffer of video bytes alone, drained at the rate
    /// left, would wait up to 1/(1-b) times that).
    pub fn set_background(&mut self, link: u32, share: DailyShare) {
        self.background[link as usize] = Some(share);
    }

    /// Links in the table (half the directions).
    pub fn len(&self) -> usize {
        self.dirs.len() / 2
    }

    pub fn is_empty(&self) -> bool {
        self.dirs.is_empty()
    }

    /// The link's full capacity.
    pub fn capacity_bps(&self, dir: SharedDir) -> u64 {
        self.dirs[dir.index()].capacity_bps
    }

    /// A chunk of `bytes` reaches direction `dir` at `now`.
    pub fn offer(&mut self, dir: SharedDir, now: SimTime, bytes: u32) -> Pass {
        let seconds = self.seconds;
        let d = &mut self.dirs[dir.index()];
        d.accrue(now);
        if let Some(share) = &self.background[dir.link() as usize] {
            let left = 1.0 - share.at(now).clamp(0.0, 1.0);
            d.fifo.set_rate(((d.capacity_bps as f64 * left) as u64).max(1));
            d.fifo.set_limit((d.queue_bytes as f64 * left) as u64);
        }
        if d.seconds.is_empty() {
            d.seconds = vec![SecondStats::default(); seconds];
        }
        let row = &mut d.seconds[((now.as_ns() / 1_000_000_000) as usize).min(seconds - 1)];
        d.totals.bytes_in += bytes as u64;
        d.totals.chunks_in += 1;
        match d.fifo.offer(now, bytes) {
            Offer::Dropped => {
                d.totals.bytes_dropped += bytes as u64;
                d.totals.chunks_dropped += 1;
                row.bytes_dropped += bytes as u64;
                row.chunks_dropped += 1;
                Pass::Dropped
            }
            Offer::Sent { start, depart } => {
                let wait_ns = (start - now).as_ns();
                d.totals.wait_ns += wait_ns;
                row.bytes_accepted += bytes as u64;
                row.chunks_accepted += 1;
                row.wait_ns_sum += wait_ns;
                row.wait_ns_max = row.wait_ns_max.max(wait_ns);
                Pass::Through { start, depart }
            }
        }
    }

    /// The integral over time, from the start to `now`, of the wait a
    /// packet of no size reaching `dir` would meet (ns x ns; `now` not
    /// before the last offer). Its increase over an interval divided by
    /// the interval's length is the mean wait of probes sent at instants
    /// spread uniformly over it (Poisson probes see time averages, PASTA);
    /// a probe takes no room.
    pub fn wait_integral(&mut self, dir: SharedDir, now: SimTime) -> u128 {
        let d = &mut self.dirs[dir.index()];
        d.accrue(now);
        d.wait_area
    }

    /// When `dir`'s transmitter is next idle: a packet of no size reaching
    /// it at `t` waits `busy_until - t` (nothing if that is past).
    pub fn busy_until(&self, dir: SharedDir) -> SimTime {
        self.dirs[dir.index()].fifo.busy_until()
    }

    /// Time to serialise `bytes` on `dir`.
    pub fn serialisation(&self, dir: SharedDir, bytes: u64) -> SimDuration {
        self.dirs[dir.index()].fifo.serialisation(bytes)
    }

    pub fn totals(&self, dir: SharedDir) -> Totals {
        self.dirs[dir.index()].totals
    }

    /// The per-second row `second` of `dir` (zeros if nothing was offered).
    pub fn second(&self, dir: SharedDir, second: usize) -> SecondStats {
        self.dirs[dir.index()].seconds.get(second).copied().unwrap_or_default()
    }

    /// Whether anything was ever offered to `dir`.
    pub fn used(&self, dir: SharedDir) -> bool {
        self.dirs[dir.index()].totals.chunks_in > 0
    }

    /// The four terms of the conservation identity at `now` (not before
    /// the last offer). `bytes_out` is what the FIFO retired, counted on
    /// its own, so a bookkeeping error shows as an imbalance.
    pub fn balance(&mut self, dir: SharedDir, now: SimTime) -> Balance {
        let d = &mut self.dirs[dir.index()];
        let bytes_queued = d.fifo.occupancy_bytes(now);
        Balance {
            bytes_in: d.totals.bytes_in,
            bytes_out: d.fifo.departed_bytes(now),
            bytes_dropped: d.totals.bytes_dropped,
            bytes_queued,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn background_load_sends_chunks_at_what_it_leaves_and_follows_the_hour() {
        // 8 Mbit/s: 1000 B take 1 ms alone.
        let mut l = SharedLinks::new([(8_000_000, 1 << 30)], 1);
        let mut hourly = [0.5; 24];
        hourly[21] = 0.75;
        l.set_background(0, DailyShare { start_hour: 20, hourly });
        let d = SharedDir::new(0, false);
        // Local 20:00, half taken: 2 ms.
        assert_eq!(l.offer(d, SimTime::ZERO, 1000), Pass::Through { start: SimTime::ZERO, depart: SimTime::from_ns(2_000_000) });
        // 20:30, linear towards 21:00's 0.75: 0.625 taken, 1000 B in 8/3 ms.
        let t = SimTime::from_ns(1_800_000_000_000);
        let Pass::Through { depart, .. } = l.offer(d, t, 1000) else { panic!("dropped") };
        assert_eq!((depart - t).as_ns(), 2_666_667);
        // The capacity reported stays the link's own.
        assert_eq!(l.capacity_bps(d), 8_000_000);
        // The share wraps at midnight: local 23:00 + 2 h = 01:00.
        let s = DailyShare { start_hour: 23, hourly: std::array::from_fn(|h| h as f64 / 100.0) };
        assert_eq!(s.at(SimTime::from_ns(2 * 3_600_000_000_000)), 0.01);
    }
    use cdnsim_engine::stream;
    use rand::Rng;

    #[test]
    fn under_background_the_longest_wait_stays_the_buffers_at_line_rate() {
        // 8 Mbit/s with a 50 ms buffer (50,000 B); three quarters taken by
        // background: video is sent at 2 Mbit/s (1000 B in 4 ms) into the
        // quarter of the buffer the background leaves, 12,500 B. A burst at
        // one instant: 12 chunks fit, the 13th is dropped, and the last
        // accepted waits 11 x 4 = 44 ms, within queue / capacity = 50 ms
        // (a 50,000 B buffer of video alone would hold 50 and make the
        // last wait 196 ms).
        let mut l = SharedLinks::new([(8_000_000, 50_000)], 1);
        l.set_background(0, DailyShare { start_hour: 0, hourly: [0.75; 24] });
        let d = SharedDir::new(0, false);
        let passes: Vec<Pass> = (0..13).map(|_| l.offer(d, SimTime::ZERO, 1000)).collect();
        assert_eq!(passes[12], Pass::Dropped);
        assert_eq!(passes[11], Pass::Through { start: ms(44), depart: ms(48) });
        // A probe at t in [0, 48 ms) waits 48 ms - t, after that nothing:
        // over the first 100 ms the integral is 48^2 / 2 ms^2 (a mean wait
        // of 11.52 ms), and it grows no more once the queue is empty.
        let ms2 = |x: u128| x * 1_000_000 * 1_000_000;
        assert_eq!(l.wait_integral(d, ms(100)), ms2(48 * 48) / 2);
        assert_eq!(l.wait_integral(d, ms(200)), ms2(48 * 48) / 2);
        // One more chunk at 200 ms: 4 ms of backlog, 8 ms^2 more.
        l.offer(d, ms(200), 1000);
        assert_eq!(l.wait_integral(d, ms(300)), ms2(48 * 48 + 16) / 2);
    }

    fn ms(x: u64) -> SimTime {
        SimTime::from_ns(x * 1_000_000)
    }

    #[test]
    fn two_sources_share_one_transmitter() {
        // 8 Mbps: 1000 B takes 1 ms. Two overlay links offer at the same
        // instant: the second waits for the first, whichever it is.
        let mut s = SharedLinks::new([(8_000_000, 10_000)], 2);
        let (fwd, back) = (SharedDir::new(0, false), SharedDir::new(0, true));
        assert_eq!(s.offer(fwd, ms(0), 1000), Pass::Through { start: ms(0), depart: ms(1) });
        assert_eq!(s.offer(fwd, ms(0), 1000), Pass::Through { start: ms(1), depart: ms(2) });
        // The other direction is a transmitter of its own.
        assert_eq!(s.offer(back, ms(0), 1000), Pass::Through { start: ms(0), depart: ms(1) });
        assert_eq!(s.totals(fwd).wait_ns, 1_000_000);
        assert_eq!(s.second(fwd, 0).chunks_accepted, 2);
    }

    #[test]
    fn drop_tail_counts_drops_per_second() {
        let mut s = SharedLinks::new([(8_000_000, 2500)], 3);
        let d = SharedDir::new(0, false);
        let t = ms(1500);
        assert!(matches!(s.offer(d, t, 1000), Pass::Through { .. }));
        assert!(matches!(s.offer(d, t, 1000), Pass::Through { .. }));
        assert_eq!(s.offer(d, t, 1000), Pass::Dropped);
        let row = s.second(d, 1);
        assert_eq!((row.chunks_accepted, row.chunks_dropped, row.bytes_dropped), (2, 1, 1000));
        assert_eq!(s.second(d, 0), SecondStats::default());
        // Past the end of the table: the last row.
        s.offer(d, ms(9000), 1000);
        assert_eq!(s.second(d, 2).chunks_accepted, 1);
    }

    #[test]
    fn bytes_are_conserved_at_every_instant() {
        // Random sizes and gaps around saturation on a small buffer, so all
        // four terms are exercised; the identity is checked after every
        // offer and, once drained, the queue holds nothing.
        let mut rng = stream(7, "test.shared.conservation");
        let mut s = SharedLinks::new([(10_000_000, 20_000), (1_000_000, 5_000)], 10);
        let mut now = SimTime::ZERO;
        let mut dropped = 0;
        for _ in 0..20_000 {
            now += SimDuration::from_ns(rng.random_range(0..1_600_000));
            let d = SharedDir(rng.random_range(0..4));
            dropped += (s.offer(d, now, rng.random_range(100..3000)) == Pass::Dropped) as u32;
            let b = s.balance(d, now);
            assert_eq!(b.bytes_in, b.bytes_out + b.bytes_dropped + b.bytes_queued, "{b:?}");
        }
        assert!(dropped > 100, "the test should reach the drop-tail ({dropped} drops)");
        let end = now + SimDuration::from_ms(1000);
        for d in 0..4 {
            let b = s.balance(SharedDir(d), end);
            assert_eq!(b.bytes_queued, 0);
            assert_eq!(b.bytes_in, b.bytes_out + b.bytes_dropped);
        }
    }
}
