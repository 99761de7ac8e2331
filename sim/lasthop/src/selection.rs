//! Which streams go over the last hop, decided as the shared-CDN talk
//! decides it: a stream uses home nodes when the IDC egress they save is
//! worth more than what feeding them costs inside the network (a cold
//! stream with ten viewers does not;
//! docs/references.md, Up-leg copies and hot-stream rule).
//! The talk states the rule, not how it avoids flapping;
//! here a stream's net saving must rise to `enter_bps` to come on and fall
//! below `leave_bps` to go off (a band between the two), and a stream
//! stays at least `min_dwell_ns` in a state before it may change again.
//!
//! # Contract
//!
//! Sans-IO: the caller measures, this decides. Build one [`Selection`] per
//! run with the number of streams and which are on at the start. At each
//! decision interval (the caller's clock; any spacing) call
//! [`Selection::decide`] once per stream, in stream order, with the
//! interval's [`Measure`] of that stream and the time `now_ns`; it
//! returns the [`Verdict`] and has already applied it: [`Verdict::Enter`]
//! means the stream is on from now (the caller moves its viewers to the
//! last hop), [`Verdict::Leave`] that it is off (they go back to chunk
//! delivery), [`Verdict::Stay`] nothing changes. Times never go backwards.
//! [`Selection::tally`] gives each stream's entries, exits and time on the
//! last hop up to a time. Nothing here draws randomness or reads a clock.
//!
//! # The rule
//!
//! net = `saved_bps` - `cost_bps` (what the stream's audience would take
//! from the IDCs by chunk delivery and does not over the last hop, against
//! what the last hop takes: home nodes' feeds, server repairs, relays and
//! the internal transfer to the feeding edges; both the caller's
//! estimates). Off -> on when net >= `enter_bps`; on -> off when net <
//! `leave_bps`; neither within `min_dwell_ns` of the stream's last change
//! (a stream that never changed may change at once). `leave_bps <=
//! enter_bps`; equal thresholds and no dwell is the rule without
//! hysteresis.

use crate::ids::StreamId;

/// Streams a [`Selection`] holds at most (the world's stream ids fit a
/// `u32`; this bounds its memory).
pub const MAX_SELECTION_STREAMS: usize = 1 << 24;

/// The thresholds and the dwell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SelectionConfig {
    /// A stream off the last hop comes on when its net saving reaches this.
    pub enter_bps: i64,
    /// A stream on the last hop goes off when its net saving falls below this.
    pub leave_bps: i64,
    /// The least time between two changes of one stream.
    pub min_dwell_ns: u64,
}

/// What is wrong with a [`SelectionConfig`] or a stream count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelectionError {
    /// `leave_bps` above `enter_bps`: a stream could be both entering and leaving.
    InvertedBand { enter_bps: i64, leave_bps: i64 },
    TooManyStreams { streams: usize },
}

impl std::fmt::Display for SelectionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SelectionError::InvertedBand { enter_bps, leave_bps } => {
                write!(f, "leave threshold {leave_bps} bps above the enter threshold {enter_bps} bps")
            }
            SelectionError::TooManyStreams { streams } => write!(f, "{streams} streams, at most {MAX_SELECTION_STREAMS}"),
        }
    }
}

/// One stream over one decision interval, as the caller measured it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Measure {
    /// Viewers watching at the decision (reported back in nothing; the
    /// caller's estimates below derive from it).
    pub viewers: u32,
    /// IDC egress the stream's audience takes by chunk delivery and would
    /// not take over the last hop.
    pub saved_bps: u64,
    /// IDC egress and internal transfer the last hop would take for it.
    pub cost_bps: u64,
}

impl Measure {
    /// saved - cost.
    pub fn net_bps(&self) -> i64 {
        self.saved_bps as i64 - self.cost_bps as i64
    }
}

/// What the caller knows of a stream's audience and of the last hop's
/// resources for it, for [`Measure::of_audience`]. Per block: the last
/// hop's unit of work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Audience {
    pub viewers: u32,
    /// The stream's rate: chunk delivery sends every viewer this.
    pub bitrate_bps: u64,
    pub block_ns: u64,
    /// Source symbols per block (K).
    pub k: u32,
    /// A home node's share, in symbols per block (S).
    pub symbols_per_node: u32,
    /// Symbols a client asks beyond K (h).
    pub headroom_symbols: u32,
    /// A symbol on the wire, header included (w).
    pub wire_bytes: u32,
    /// Symbols one home node uploads in a block at its capacity (c).
    pub node_symbols_per_block: u32,
    /// Home nodes that could serve the stream (H).
    pub home_nodes: u32,
    /// Of the symbols home nodes send, those relayed through an IDC edge
    /// (NAT traversal failed), in parts per million.
    pub relayed_ppm: u32,
    /// Edges that would carry the stream only to feed home nodes (the
    /// internal transfer the last hop adds).
    pub feeding_edges: u32,
}

impl Measure {
    /// The closed form of a stream's saving and cost, per block of
    /// duration τ, for V viewers each asking K + h symbols (demand D =
    /// V (K + h)):
    /// - saved: V x the stream's rate (what chunk delivery sends them);
    /// - home nodes fed: n = min(H, max(ceil(D / c), ceil((K + h) / S)))
    ///   (enough capacity for the demand, and enough distinct nodes for
    ///   one client), each fed its share S w bytes;
    /// - the server sends what they cannot, max(0, D - n c) symbols;
    /// - relays carry `relayed` of the home nodes' min(D, n c) symbols;
    /// - each feeding edge takes the stream inside the network, one
    ///   block's bytes (rate x τ).
    ///
    /// cost = (n S w + server w + relayed w + edges x block bytes) / τ.
    /// No viewers: nothing saved, nothing spent.
    pub fn of_audience(a: &Audience) -> Measure {
        if a.viewers == 0 {
            return Measure::default();
        }
        let per_client = (a.k + a.headroom_symbols) as u64;
        let demand = a.viewers as u64 * per_client;
        let c = (a.node_symbols_per_block as u64).max(1);
        let enough = demand.div_ceil(c).max(per_client.div_ceil(a.symbols_per_node.max(1) as u64));
        let nodes = enough.min(a.home_nodes as u64);
        let home_symbols = demand.min(nodes * c);
        let server_symbols = demand - home_symbols;
        let w = a.wire_bytes as u128;
        let relayed = home_symbols as u128 * a.relayed_ppm as u128 / 1_000_000;
        let block_bytes = a.bitrate_bps as u128 * a.block_ns as u128 / 8_000_000_000;
        let bytes = nodes as u128 * a.symbols_per_node as u128 * w
            + server_symbols as u128 * w
            + relayed * w
            + a.feeding_edges as u128 * block_bytes;
        let cost_bps = bytes * 8_000_000_000 / a.block_ns.max(1) as u128;
        Measure {
            viewers: a.viewers,
            saved_bps: a.viewers as u64 * a.bitrate_bps,
            cost_bps: cost_bps.min(u64::MAX as u128) as u64,
        }
    }
}

/// What [`Selection::decide`] did to a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Off until now, on from now.
    Enter,
    /// On until now, off from now.
    Leave,
    /// No change.
    Stay,
}

/// A stream's decisions so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SelectionTally {
    pub entries: u64,
    pub exits: u64,
    /// Time on the last hop (up to the time [`Selection::tally`] was asked for).
    pub on_ns: u64,
}

#[derive(Clone, Copy, Debug, Default)]
struct StreamState {
    on: bool,
    /// The last change, if any.
    changed_ns: Option<u64>,
    /// When the current stretch on the last hop began.
    on_since_ns: u64,
    tally: SelectionTally,
}

/// The per-stream decisions of a run.
#[derive(Clone, Debug)]
pub struct Selection {
    cfg: SelectionConfig,
    streams: Vec<StreamState>,
    last_ns: u64,
}

impl Selection {
    /// `streams` streams, those with `on(s)` on the last hop at time zero.
    pub fn new(cfg: SelectionConfig, streams: usize, on: impl Fn(StreamId) -> bool) -> Result<Selection, SelectionError> {
        if cfg.leave_bps > cfg.enter_bps {
            return Err(SelectionError::InvertedBand { enter_bps: cfg.enter_bps, leave_bps: cfg.leave_bps });
        }
        if streams > MAX_SELECTION_STREAMS {
            return Err(SelectionError::TooManyStreams { streams });
        }
        let streams = (0..streams as u32).map(|s| StreamState { on: on(StreamId(s)), ..Default::default() }).collect();
        Ok(Selection { cfg, streams, last_ns: 0 })
    }

    /// Whether `stream` is on the last hop.
    pub fn is_on(&self, stream: StreamId) -> bool {
        self.streams[stream.0 as usize].on
    }

    /// Decides `stream` at `now_ns` on its measure `m` and applies the verdict.
    pub fn decide(&mut self, now_ns: u64, stream: StreamId, m: Measure) -> Verdict {
        debug_assert!(now_ns >= self.last_ns, "time went backwards: {now_ns} after {}", self.last_ns);
        self.last_ns = now_ns;
        let cfg = self.cfg;
        let s = &mut self.streams[stream.0 as usize];
        if s.changed_ns.is_some_and(|t| now_ns < t.saturating_add(cfg.min_dwell_ns)) {
            return Verdict::Stay;
        }
        let net = m.net_bps();
        if !s.on && net >= cfg.enter_bps {
            s.on = true;
            s.on_since_ns = now_ns;
            s.changed_ns = Some(now_ns);
            s.tally.entries += 1;
            Verdict::Enter
        } else if s.on && net < cfg.leave_bps {
            s.on = false;
            s.tally.on_ns += now_ns - s.on_since_ns;
            s.changed_ns = Some(now_ns);
            s.tally.exits += 1;
            Verdict::Leave
        } else {
            Verdict::Stay
        }
    }

    /// `stream`'s entries, exits and time on the last hop up to `now_ns`.
    pub fn tally(&self, stream: StreamId, now_ns: u64) -> SelectionTally {
        let s = &self.streams[stream.0 as usize];
        let mut t = s.tally;
        if s.on {
            t.on_ns += now_ns.saturating_sub(s.on_since_ns);
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: StreamId = StreamId(0);

    fn selection(enter_bps: i64, leave_bps: i64, min_dwell_ns: u64) -> Selection {
        Selection::new(SelectionConfig { enter_bps, leave_bps, min_dwell_ns }, 1, |_| false).unwrap()
    }

    fn net(n: i64) -> Measure {
        if n >= 0 { Measure { viewers: 0, saved_bps: n as u64, cost_bps: 0 } } else { Measure { viewers: 0, saved_bps: 0, cost_bps: (-n) as u64 } }
    }

    /// Runs `signal` (net saving per interval, 1 s apart) and counts changes.
    fn changes(sel: &mut Selection, signal: &[i64]) -> u64 {
        let mut n = 0;
        for (i, &x) in signal.iter().enumerate() {
            if sel.decide(i as u64 * 1_000_000_000, S, net(x)) != Verdict::Stay {
                n += 1;
            }
        }
        n
    }

    #[test]
    fn a_rising_stream_enters_once_at_the_first_interval_at_the_threshold() {
        // net = 100 i - 1000: reaches 500 at i = 15.
        let mut sel = selection(500, 200, 0);
        let mut entered = Vec::new();
        for i in 0..60u64 {
            if sel.decide(i * 1_000_000_000, S, net(100 * i as i64 - 1000)) == Verdict::Enter {
                entered.push(i);
            }
        }
        assert_eq!(entered, [15]);
        let t = sel.tally(S, 60_000_000_000);
        assert_eq!((t.entries, t.exits, t.on_ns), (1, 0, 45_000_000_000));
    }

    #[test]
    fn a_stream_oscillating_inside_the_band_never_changes() {
        // Between leave (200) and enter (500): off stays off; once on
        // (one interval above enter first), on stays on.
        let inside: Vec<i64> = (0..100).map(|i| if i % 2 == 0 { 210 } else { 490 }).collect();
        assert_eq!(changes(&mut selection(500, 200, 0), &inside), 0);
        let mut first_above = vec![600];
        first_above.extend(&inside);
        assert_eq!(changes(&mut selection(500, 200, 0), &first_above), 1);
    }

    /// Alternating above enter and below leave from interval 0 on, dwell
    /// d intervals, n intervals: the first change at 0, then each at the
    /// first interval at least d later with the other level, g = d for odd
    /// d and d + 1 for even d (g = 1 for d = 0): 1 + floor((n - 1) / g).
    fn alternating_closed_form(n: u64, d: u64) -> u64 {
        let g = if d == 0 { 1 } else if d % 2 == 1 { d } else { d + 1 };
        1 + (n - 1) / g
    }

    #[test]
    fn alternation_across_the_band_changes_as_often_as_the_dwell_allows() {
        let n = 101;
        for d in 0..8u64 {
            let signal: Vec<i64> = (0..n).map(|i| if i % 2 == 0 { 600 } else { 100 }).collect();
            let got = changes(&mut selection(500, 200, d * 1_000_000_000), &signal);
            assert_eq!(got, alternating_closed_form(n, d), "dwell {d} intervals");
        }
    }

    #[test]
    fn without_hysteresis_a_stream_near_the_threshold_flaps_and_with_it_does_not() {
        // Noise of +-50 around 350, the middle of a 200..500 band.
        let signal: Vec<i64> = (0..200).map(|i| 350 + if i % 3 == 0 { 50 } else { -50 }).collect();
        // One threshold at 350, no dwell: every move across it is a change.
        let crossings = (1..signal.len()).filter(|&i| (signal[i] >= 350) != (signal[i - 1] >= 350)).count() as u64;
        let first = u64::from(signal[0] >= 350);
        assert_eq!(changes(&mut selection(350, 350, 0), &signal), first + crossings);
        assert!(crossings > 100);
        // The band: never enters.
        assert_eq!(changes(&mut selection(500, 200, 0), &signal), 0);
    }

    /// The talk's example (docs/references.md, Ideal amplification): a
    /// 1 Mbps stream, K = 100 symbols of 1250 B (1256 on the wire), a 1%
    /// share (S = 1), 10 Mbps nodes (c = floor(10e6 / 8 / 1256) = 995).
    fn talk(viewers: u32) -> Audience {
        Audience {
            viewers,
            bitrate_bps: 1_000_000,
            block_ns: 1_000_000_000,
            k: 100,
            symbols_per_node: 1,
            headroom_symbols: 0,
            wire_bytes: 1256,
            node_symbols_per_block: 995,
            home_nodes: 500,
            relayed_ppm: 0,
            feeding_edges: 1,
        }
    }

    #[test]
    fn the_closed_form_of_saving_and_cost_on_the_talks_example() {
        // One viewer: 100 nodes (one symbol each) fed 1256 B a block,
        // plus the feeding edge's 125,000 B: 250,600 B/s = 2,004,800 bps,
        // against 1 Mbps saved. A cold stream does not pay.
        let one = Measure::of_audience(&talk(1));
        assert_eq!((one.saved_bps, one.cost_bps), (1_000_000, 2_004_800));
        assert!(one.net_bps() < 0);
        // A thousand: D = 100,000 symbols, ceil(D / 995) = 101 nodes:
        // 101 x 1256 B + 125,000 B = 251,856 B/s = 2,014,848 bps, against
        // 1 Gbps saved (the thousandfold of the talk).
        let many = Measure::of_audience(&talk(1000));
        assert_eq!((many.saved_bps, many.cost_bps), (1_000_000_000, 2_014_848));
        // Break-even: V x 1 Mbps >= 2,004,800 bps from V = 3 (the nodes
        // needed stay at 100 up to V = 995).
        let first = (1..100).find(|&v| Measure::of_audience(&talk(v)).net_bps() >= 0).unwrap();
        assert_eq!(first, 3);
        // Too few nodes: 50 of them upload 49,750 of D = 100,000 symbols;
        // the server sends the other 50,250, and a quarter of the home
        // symbols are relayed: (50 + 50,250 + 12,437) x 1256 B + 125,000 B.
        let short = Measure::of_audience(&Audience { home_nodes: 50, relayed_ppm: 250_000, ..talk(1000) });
        assert_eq!(short.cost_bps, ((50 + 50_250 + 12_437) * 1256 + 125_000) * 8);
        assert_eq!(Measure::of_audience(&talk(0)), Measure::default());
    }

    #[test]
    fn streams_on_at_the_start_count_their_time_from_zero_and_bad_bands_are_refused() {
        let cfg = SelectionConfig { enter_bps: 10, leave_bps: 0, min_dwell_ns: 5 };
        let mut sel = Selection::new(cfg, 2, |s| s.0 == 1).unwrap();
        assert!(sel.is_on(StreamId(1)) && !sel.is_on(StreamId(0)));
        assert_eq!(sel.decide(7, StreamId(1), net(-1)), Verdict::Leave);
        assert_eq!(sel.tally(StreamId(1), 100), SelectionTally { entries: 0, exits: 1, on_ns: 7 });
        // Within the dwell of its exit it stays off whatever it measures.
        assert_eq!(sel.decide(11, StreamId(1), net(1000)), Verdict::Stay);
        assert_eq!(sel.decide(12, StreamId(1), net(1000)), Verdict::Enter);
        let bad = SelectionConfig { enter_bps: 0, leave_bps: 1, min_dwell_ns: 0 };
        assert_eq!(Selection::new(bad, 1, |_| false).unwrap_err(), SelectionError::InvertedBand { enter_bps: 0, leave_bps: 1 });
    }
}
