//! The transport network between regions (the edge-container talk's MSDN):
//! server-to-server links probed at a fixed interval, failure detection
//! after `d` intervals without a reply, and a route service that keeps one
//! path per region pair, direct or through exactly one relay region (RON's
//! one-intermediate-hop rule; docs/references.md, RON recovery), scored
//! with the crate's [`ScoreFn`] and held against ping-pong with the
//! [`Policy`](crate::Policy) rules (a switch margin and a minimum dwell).
//!
//! Sans-IO: the caller owns the network. It sends the probes this asks
//! for, draws their fate (loss, delay, jitter) from its own random stream,
//! and hands back each reply that arrives. Times are **nanoseconds** (the
//! edge model's unit; the [`Router`](crate::Router) uses microseconds).
//!
//! # Run-loop contract (the quinn-proto shape)
//!
//! 1. Build with [`Transport::new`] at the run's start time.
//! 2. Ask [`Transport::poll_timeout`] for the next instant with work (a
//!    probe round, or a link's detection deadline) and call
//!    [`Transport::handle_timeout`] then (later is allowed; time never
//!    goes back).
//! 3. When a reply to probe `seq` of a link reaches its prober, call
//!    [`Transport::handle_reply`] with the round-trip time. A probe whose
//!    reply is lost is simply never answered.
//! 4. After every call, drain [`Transport::poll_output`] in order:
//!    [`Output::Probe`] (send it now), [`Output::LinkDown`] /
//!    [`Output::LinkUp`], [`Output::Switched`], [`Output::Unreachable`],
//!    [`Output::Reachable`]. The queue holds at most one probe per link
//!    plus one state change per link and per routed pair per call.
//! 5. [`Transport::route`] gives a pair's current path (and starts keeping
//!    one for it); [`Transport::current`] only reads.
//!
//! # Rules
//!
//! - **Probing**: every link is probed once per `probe_interval_ns`, all
//!   links in the same rounds (the first at the start time). A probe not
//!   answered within `loss_timeout_ns` counts as lost in the link's loss
//!   estimate; one-way delay is half the round trip; jitter is the mean
//!   absolute difference of successive delays (RFC 3550's estimator). All
//!   three are time-smoothed ([`Smoothed`], half-life `half_life_ns`),
//!   starting from the link's nominal values (loss over its own, longer
//!   half-life). Scoring ignores `loss_noise_probes` lost probes per loss
//!   window: one probe is one Bernoulli sample, and a lone loss on a
//!   healthy link would otherwise move a path's score by more than the
//!   switch margin.
//! - **Detection** (BFD's detection time, RFC 5880 section 6.8.4): a link
//!   is declared down when no reply has arrived for `missed_probes` x
//!   `probe_interval_ns` (docs/references.md, BFD detection time), i.e.
//!   `missed_probes` consecutive probes went
//!   unanswered; up again at its next reply. If the caller never delivers
//!   a reply that left before a failure began, a failure at `f` is declared
//!   by `f + missed_probes x probe_interval_ns` at the latest.
//! - **Path score**: a path's end-to-end observation (delays added, a
//!   jitter buffer of twice the root-sum-square of the links' jitter added
//!   to the delay, loss `1 - prod(1 - loss_i)`) scored by [`ScoreFn`]. A
//!   path is *usable* when every link is up; a degraded link only scores
//!   lower.
//! - **Candidates** of pair (a, b): the direct link, and with `relay` each
//!   allowed relay region r with links a-r and r-b. Best: the highest
//!   score, then fewer links, then the lower relay id.
//! - **Switching**: a pair whose path is unusable moves at once to the best
//!   usable candidate (forced), or is unreachable if none is usable; it is
//!   given the best again as soon as one is. A usable path moves only to a
//!   candidate more than `switch_margin` points better, and only once it
//!   has been held `min_dwell_ns` (anti ping-pong, as the router's
//!   pools). A switch back to the path the pair left at its previous
//!   switch is counted as a ping-pong.
//!
//! Pairs are unordered: (a, b) and (b, a) share a path. Every table is
//! ordered (BTreeMap, Vec); ties go to the lower id.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::error::{ParamError, require};
use crate::score::{Observation, ScoreFn, Smoothed};

/// Bound on regions (ids are 16 bits).
pub const MAX_TRANSPORT_REGIONS: usize = 4096;
/// Bound on links.
pub const MAX_TRANSPORT_LINKS: usize = 1 << 16;
/// Bound on probes of one link awaiting a reply or their loss timeout.
pub const MAX_OUTSTANDING_PROBES: usize = 64;

/// A region of the transport network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RegionIx(pub u16);

/// A region-to-region link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LinkIx(pub u32);

/// A link as configured: its ends and nominal quality (the prior of its
/// estimates until probes say otherwise).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinkSpec {
    /// One end.
    pub a: RegionIx,
    /// The other end.
    pub b: RegionIx,
    /// Nominal one-way delay.
    pub delay_ns: u64,
    /// Nominal loss, a fraction in [0, 1).
    pub loss: f64,
    /// Nominal jitter (mean absolute difference of successive delays).
    pub jitter_ns: u64,
}

/// Probing, detection and switching rules. See the module docs.
#[derive(Clone, Debug, PartialEq)]
pub struct TransportConfig {
    /// P: time between probe rounds (above zero).
    pub probe_interval_ns: u64,
    /// d: intervals without a reply before a link is declared down (>= 1).
    pub missed_probes: u32,
    /// A probe unanswered this long counts as lost (above zero).
    pub loss_timeout_ns: u64,
    /// Paths through one relay region are candidates.
    pub relay: bool,
    /// Regions that may relay (`None`: every region).
    pub relays: Option<Vec<RegionIx>>,
    /// A voluntary switch needs more than this many points of path score.
    pub switch_margin: f64,
    /// Lost probes per loss window (`1 / (1 - 2^(-P / loss_half_life))`
    /// probes) that the score ignores as noise (default 2): with loss
    /// 0.05% and 87 probes a window, two or more losses in one window
    /// happen about once an hour somewhere in a 44-link network, three
    /// about once a week, while a real degradation of 10% loses about 9.
    pub loss_noise_probes: f64,
    /// No voluntary switch within this time of the pair's last change.
    pub min_dwell_ns: u64,
    /// Half-life of the delay and jitter estimates (above zero).
    pub half_life_ns: u64,
    /// Half-life of the loss estimate (above zero): longer, since one
    /// probe is one sample of a Bernoulli loss (at 60 s and one probe a
    /// second, about 87 probes weigh in, so one random loss moves the
    /// estimate by about 1%, as RON's average over its last 100 probes).
    pub loss_half_life_ns: u64,
    /// The scoring function.
    pub score: ScoreFn,
}

impl Default for TransportConfig {
    /// Probes every second, down after 3 misses, relays on, the
    /// [`Policy`](crate::Policy) defaults for margin (3 points), dwell
    /// (30 s) and half-life (10 s); loss over a 60 s half-life.
    fn default() -> Self {
        TransportConfig {
            probe_interval_ns: 1_000_000_000,
            missed_probes: 3,
            loss_timeout_ns: 2_000_000_000,
            relay: true,
            relays: None,
            switch_margin: 3.0,
            loss_noise_probes: 2.0,
            min_dwell_ns: 30_000_000_000,
            half_life_ns: 10_000_000_000,
            loss_half_life_ns: 60_000_000_000,
            score: ScoreFn::default(),
        }
    }
}

/// A path between two regions: a direct link, or two links through a
/// relay region.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TPath {
    /// The relay region, if any.
    pub relay: Option<RegionIx>,
    /// The link from the lower-id end (direct: the only link).
    pub first: LinkIx,
    /// The link from the relay to the higher-id end.
    pub second: Option<LinkIx>,
}

impl TPath {
    /// Its links, from the lower-id end.
    pub fn links(&self) -> impl Iterator<Item = LinkIx> + '_ {
        std::iter::once(self.first).chain(self.second)
    }

    /// Links on the path (1 or 2).
    pub fn hops(&self) -> usize {
        1 + self.second.is_some() as usize
    }

    /// Whether `link` is on the path.
    pub fn uses(&self, link: LinkIx) -> bool {
        self.first == link || self.second == Some(link)
    }
}

/// What the transport asks of its driver, or tells it. See the module docs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Output {
    /// Send probe `seq` over `link` now; hand its reply to
    /// [`Transport::handle_reply`] when (if) it comes back.
    Probe {
        /// The link.
        link: LinkIx,
        /// Its sequence number on the link.
        seq: u64,
    },
    /// `link` went `missed_probes` intervals without a reply.
    LinkDown {
        /// The link.
        link: LinkIx,
        /// When its last reply arrived.
        last_reply_ns: u64,
    },
    /// A reply came back on a link that was down.
    LinkUp {
        /// The link.
        link: LinkIx,
    },
    /// Pair (a, b) (a < b) moved from one path to another.
    Switched {
        /// Lower-id end.
        a: RegionIx,
        /// Higher-id end.
        b: RegionIx,
        /// The path left.
        from: TPath,
        /// The path taken.
        to: TPath,
        /// The path left was unusable (no dwell time applied).
        forced: bool,
        /// `to` is the path the pair left at its previous switch (A-B-A).
        ping_pong: bool,
    },
    /// Pair (a, b)'s path became unusable and no candidate is usable.
    Unreachable {
        /// Lower-id end.
        a: RegionIx,
        /// Higher-id end.
        b: RegionIx,
        /// The path lost.
        from: TPath,
    },
    /// An unreachable pair has a usable path again.
    Reachable {
        /// Lower-id end.
        a: RegionIx,
        /// Higher-id end.
        b: RegionIx,
        /// The path taken.
        to: TPath,
    },
}

/// Counters since the transport was built.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TransportStats {
    /// Probes asked for.
    pub probes: u64,
    /// Replies handed back (late ones included).
    pub replies: u64,
    /// Probes counted lost (no reply within the loss timeout).
    pub probes_lost: u64,
    /// Links declared down.
    pub links_down: u64,
    /// Links declared up again.
    pub links_up: u64,
    /// Path switches, all kinds.
    pub switches: u64,
    /// Switches away from an unusable path.
    pub forced_switches: u64,
    /// A-B-A switches.
    pub ping_pongs: u64,
    /// Switches onto a relay path.
    pub relay_switches: u64,
    /// Pairs that became unreachable.
    pub unreachable: u64,
}

#[derive(Clone, Debug)]
struct LinkState {
    spec: LinkSpec,
    up: bool,
    last_reply_ns: u64,
    next_seq: u64,
    /// (seq, sent at), oldest first.
    outstanding: VecDeque<(u64, u64)>,
    delay: Smoothed,
    loss: Smoothed,
    jitter: Smoothed,
    last_delay_ns: Option<u64>,
}

impl LinkState {
    /// (delay ns, loss, jitter ns) as scored: the loss estimate less
    /// `noise` (the loss share that `loss_noise_probes` lost probes make
    /// in one window).
    fn observation(&self, noise: f64) -> (f64, f64, f64) {
        (self.delay.value(), (self.loss.value() - noise).clamp(0.0, 1.0), self.jitter.value())
    }
}

#[derive(Clone, Debug)]
struct PairRoute {
    /// `None`: unreachable.
    path: Option<TPath>,
    since_ns: u64,
    /// The path left at the last switch.
    prev: Option<TPath>,
    /// Direct first, then by relay id.
    candidates: Vec<TPath>,
}

/// The transport network's probing and route service. See the module docs.
#[derive(Clone, Debug)]
pub struct Transport {
    cfg: TransportConfig,
    /// The loss share scoring ignores (see `loss_noise_probes`).
    loss_noise: f64,
    regions: usize,
    links: Vec<LinkState>,
    /// (lower end, higher end) -> link.
    between: BTreeMap<(u16, u16), LinkIx>,
    relay_ok: Vec<bool>,
    pairs: BTreeMap<(u16, u16), PairRoute>,
    next_round_ns: u64,
    /// (deadline, link) of every up link.
    deadlines: BTreeSet<(u64, u32)>,
    out: VecDeque<Output>,
    stats: TransportStats,
}

fn key(a: RegionIx, b: RegionIx) -> (u16, u16) {
    if a.0 <= b.0 { (a.0, b.0) } else { (b.0, a.0) }
}

impl Transport {
    /// A transport over `regions` regions and `links`, all up, at `now_ns`
    /// (the first probe round). Fails on a bad configuration, a link to a
    /// region out of range, a loop, or two links between the same regions.
    pub fn new(cfg: TransportConfig, regions: usize, links: Vec<LinkSpec>, now_ns: u64) -> Result<Self, ParamError> {
        require(cfg.probe_interval_ns > 0, "probe_interval_ns", "an interval above zero", cfg.probe_interval_ns)?;
        require(cfg.missed_probes >= 1, "missed_probes", "at least 1", cfg.missed_probes)?;
        require(cfg.loss_timeout_ns > 0, "loss_timeout_ns", "a timeout above zero", cfg.loss_timeout_ns)?;
        require(cfg.half_life_ns > 0, "half_life_ns", "a half-life above zero", cfg.half_life_ns)?;
        require(cfg.switch_margin.is_finite() && (0.0..=100.0).contains(&cfg.switch_margin), "switch_margin", "points in [0, 100]", cfg.switch_margin)?;
        require(cfg.loss_half_life_ns > 0, "loss_half_life_ns", "a half-life above zero", cfg.loss_half_life_ns)?;
        require(cfg.loss_noise_probes.is_finite() && cfg.loss_noise_probes >= 0.0, "loss_noise_probes", "a count of at least 0", cfg.loss_noise_probes)?;
        cfg.score.validate()?;
        require(regions <= MAX_TRANSPORT_REGIONS, "regions", &format!("at most {MAX_TRANSPORT_REGIONS}"), regions)?;
        require(links.len() <= MAX_TRANSPORT_LINKS, "links", &format!("at most {MAX_TRANSPORT_LINKS}"), links.len())?;
        let mut between = BTreeMap::new();
        let mut states = Vec::with_capacity(links.len());
        for (i, l) in links.into_iter().enumerate() {
            let f = |x: &str| format!("links[{i}].{x}");
            require((l.a.0 as usize) < regions, &f("a"), &format!("a region below {regions}"), l.a.0)?;
            require((l.b.0 as usize) < regions, &f("b"), &format!("a region below {regions}"), l.b.0)?;
            require(l.a != l.b, &f("b"), "a region other than a", l.b.0)?;
            require(l.loss.is_finite() && (0.0..1.0).contains(&l.loss), &f("loss"), "a fraction in [0, 1)", l.loss)?;
            if between.insert(key(l.a, l.b), LinkIx(i as u32)).is_some() {
                return Err(ParamError::new(f("b"), "one link per pair of regions", format!("a second link {}-{}", l.a.0, l.b.0)));
            }
            states.push(LinkState {
                spec: l,
                up: true,
                last_reply_ns: now_ns,
                next_seq: 0,
                outstanding: VecDeque::new(),
                delay: Smoothed::new(l.delay_ns as f64),
                loss: Smoothed::new(l.loss),
                jitter: Smoothed::new(l.jitter_ns as f64),
                last_delay_ns: None,
            });
        }
        let mut relay_ok = vec![cfg.relays.is_none(); regions];
        for (i, r) in cfg.relays.iter().flatten().enumerate() {
            require((r.0 as usize) < regions, &format!("relays[{i}]"), &format!("a region below {regions}"), r.0)?;
            relay_ok[r.0 as usize] = true;
        }
        let detect = cfg.probe_interval_ns.saturating_mul(cfg.missed_probes as u64);
        let deadlines = (0..states.len() as u32).map(|l| (now_ns.saturating_add(detect), l)).collect();
        // Probes per loss window: the weights' sum of a probe every P with
        // weights halving every loss half-life.
        let per_window = 1.0 / (1.0 - cdnsim_maths::exp(-(cfg.probe_interval_ns as f64 / cfg.loss_half_life_ns as f64) * std::f64::consts::LN_2));
        Ok(Transport {
            loss_noise: cfg.loss_noise_probes / per_window,
            cfg,
            regions,
            links: states,
            between,
            relay_ok,
            pairs: BTreeMap::new(),
            next_round_ns: now_ns,
            deadlines,
            out: VecDeque::new(),
            stats: TransportStats::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &TransportConfig {
        &self.cfg
    }

    /// Counters so far.
    pub fn stats(&self) -> TransportStats {
        self.stats
    }

    /// The link between `a` and `b`, if any.
    pub fn link_between(&self, a: RegionIx, b: RegionIx) -> Option<LinkIx> {
        self.between.get(&key(a, b)).copied()
    }

    /// A link's configuration.
    pub fn link(&self, link: LinkIx) -> &LinkSpec {
        &self.links[link.0 as usize].spec
    }

    /// Whether a link is currently believed up.
    pub fn is_up(&self, link: LinkIx) -> bool {
        self.links[link.0 as usize].up
    }

    /// The candidate paths of a pair (direct first, then by relay id),
    /// whatever their state.
    pub fn candidates(&self, a: RegionIx, b: RegionIx) -> Vec<TPath> {
        let (lo, hi) = key(a, b);
        let mut out = Vec::new();
        if lo == hi {
            return out;
        }
        if let Some(&l) = self.between.get(&(lo, hi)) {
            out.push(TPath { relay: None, first: l, second: None });
        }
        if self.cfg.relay {
            for r in 0..self.regions as u16 {
                if r == lo || r == hi || !self.relay_ok[r as usize] {
                    continue;
                }
                if let (Some(&x), Some(&y)) = (self.between.get(&key(RegionIx(lo), RegionIx(r))), self.between.get(&key(RegionIx(r), RegionIx(hi)))) {
                    out.push(TPath { relay: Some(RegionIx(r)), first: x, second: Some(y) });
                }
            }
        }
        out
    }

    /// A link's own score from its current estimates.
    pub fn link_score(&self, link: LinkIx) -> f64 {
        let (d, l, j) = self.links[link.0 as usize].observation(self.loss_noise);
        self.score_of(d, l, j * j)
    }

    fn score_of(&self, delay_ns: f64, loss: f64, jitter_sq: f64) -> f64 {
        let eff_ns = delay_ns + 2.0 * jitter_sq.sqrt();
        let delay_us = (eff_ns / 1000.0).round().clamp(0.0, u32::MAX as f64) as u32;
        self.cfg.score.score(&Observation { delay_us, loss, retransmit_rate: 0.0 })
    }

    /// A path's score from its links' current estimates (see the module
    /// docs).
    pub fn path_score(&self, path: &TPath) -> f64 {
        let (mut d, mut keep, mut j2) = (0.0, 1.0, 0.0);
        for l in path.links() {
            let (dl, ll, jl) = self.links[l.0 as usize].observation(self.loss_noise);
            d += dl;
            keep *= 1.0 - ll;
            j2 += jl * jl;
        }
        self.score_of(d, 1.0 - keep, j2)
    }

    /// Every link up (a degraded link is usable, only scored lower).
    pub fn usable(&self, path: &TPath) -> bool {
        path.links().all(|l| self.links[l.0 as usize].up)
    }

    /// Nominal one-way delay of a path (its links' configured delays).
    pub fn nominal_delay_ns(&self, path: &TPath) -> u64 {
        path.links().map(|l| self.links[l.0 as usize].spec.delay_ns).sum()
    }

    fn best(&self, candidates: &[TPath]) -> Option<(TPath, f64)> {
        let mut best: Option<(TPath, f64)> = None;
        for c in candidates.iter().filter(|c| self.usable(c)) {
            let s = self.path_score(c);
            // Candidates come direct first, then by relay id: a strictly
            // higher score wins, so ties keep fewer links and lower ids.
            if best.is_none_or(|(_, b)| s > b) {
                best = Some((*c, s));
            }
        }
        best
    }

    /// The current path of pair (a, b), kept from now on and moved by the
    /// switching rules; `None` if no candidate is usable (or a == b).
    pub fn route(&mut self, now_ns: u64, a: RegionIx, b: RegionIx) -> Option<TPath> {
        let k = key(a, b);
        if k.0 == k.1 {
            return None;
        }
        if !self.pairs.contains_key(&k) {
            let candidates = self.candidates(a, b);
            let path = self.best(&candidates).map(|(p, _)| p);
            self.pairs.insert(k, PairRoute { path, since_ns: now_ns, prev: None, candidates });
        }
        self.pairs[&k].path
    }

    /// The current path of a pair already routed (no side effect).
    pub fn current(&self, a: RegionIx, b: RegionIx) -> Option<TPath> {
        self.pairs.get(&key(a, b)).and_then(|p| p.path)
    }

    /// Pairs routed so far.
    pub fn pairs(&self) -> usize {
        self.pairs.len()
    }

    /// The next instant with work: a probe round or a detection deadline.
    pub fn poll_timeout(&self) -> Option<u64> {
        let d = self.deadlines.first().map(|&(t, _)| t);
        Some(d.map_or(self.next_round_ns, |d| d.min(self.next_round_ns)))
    }

    /// Runs what is due at `now_ns`: detection deadlines passed, then the
    /// probe round, then the route service.
    pub fn handle_timeout(&mut self, now_ns: u64) {
        let mut changed = false;
        while let Some(&(t, l)) = self.deadlines.first() {
            if t > now_ns {
                break;
            }
            self.deadlines.pop_first();
            let s = &mut self.links[l as usize];
            s.up = false;
            self.stats.links_down += 1;
            self.out.push_back(Output::LinkDown { link: LinkIx(l), last_reply_ns: s.last_reply_ns });
            changed = true;
        }
        if now_ns >= self.next_round_ns {
            let half = self.cfg.loss_half_life_ns;
            for (i, s) in self.links.iter_mut().enumerate() {
                while let Some(&(_, sent)) = s.outstanding.front() {
                    if sent.saturating_add(self.cfg.loss_timeout_ns) > now_ns && s.outstanding.len() < MAX_OUTSTANDING_PROBES {
                        break;
                    }
                    s.outstanding.pop_front();
                    s.loss.add(now_ns, 1.0, half);
                    self.stats.probes_lost += 1;
                }
                let seq = s.next_seq;
                s.next_seq += 1;
                s.outstanding.push_back((seq, now_ns));
                self.stats.probes += 1;
                self.out.push_back(Output::Probe { link: LinkIx(i as u32), seq });
            }
            // The next round after now, on the grid of the first.
            let p = self.cfg.probe_interval_ns;
            let behind = (now_ns - self.next_round_ns) / p;
            self.next_round_ns += (behind + 1) * p;
            changed = true;
        }
        if changed {
            self.reroute(now_ns);
        }
    }

    /// The reply to probe `seq` of `link` arrived, `rtt_ns` after the probe
    /// left. A reply to an unknown or already-lost probe still proves the
    /// link alive but adds no delay sample.
    pub fn handle_reply(&mut self, now_ns: u64, link: LinkIx, seq: u64, rtt_ns: u64) {
        let Some(s) = self.links.get_mut(link.0 as usize) else { return };
        self.stats.replies += 1;
        let (half, loss_half) = (self.cfg.half_life_ns, self.cfg.loss_half_life_ns);
        if let Some(pos) = s.outstanding.iter().position(|&(q, _)| q == seq) {
            s.outstanding.remove(pos);
            let one_way = rtt_ns / 2;
            s.loss.add(now_ns, 0.0, loss_half);
            s.delay.add(now_ns, one_way as f64, half);
            if let Some(prev) = s.last_delay_ns {
                s.jitter.add(now_ns, one_way.abs_diff(prev) as f64, half);
            }
            s.last_delay_ns = Some(one_way);
        }
        let detect = self.cfg.probe_interval_ns.saturating_mul(self.cfg.missed_probes as u64);
        let was_up = s.up;
        if was_up {
            self.deadlines.remove(&(s.last_reply_ns.saturating_add(detect), link.0));
        }
        s.last_reply_ns = s.last_reply_ns.max(now_ns);
        s.up = true;
        self.deadlines.insert((s.last_reply_ns.saturating_add(detect), link.0));
        if !was_up {
            self.stats.links_up += 1;
            self.out.push_back(Output::LinkUp { link });
            self.reroute(now_ns);
        }
    }

    /// The next output, in order.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// The route service's pass over every routed pair.
    fn reroute(&mut self, now_ns: u64) {
        let keys: Vec<(u16, u16)> = self.pairs.keys().copied().collect();
        for k in keys {
            let p = &self.pairs[&k];
            let best = self.best(&p.candidates);
            let (a, b) = (RegionIx(k.0), RegionIx(k.1));
            let cur = p.path;
            let decision = match (cur, best) {
                (None, None) => None,
                (None, Some((to, _))) => {
                    self.out.push_back(Output::Reachable { a, b, to });
                    Some((Some(to), None))
                }
                (Some(from), None) if !self.usable(&from) => {
                    self.stats.unreachable += 1;
                    self.out.push_back(Output::Unreachable { a, b, from });
                    Some((None, Some(from)))
                }
                (Some(_), None) => None,
                (Some(from), Some((to, s))) if to != from => {
                    let forced = !self.usable(&from);
                    let better = s > self.path_score(&from) + self.cfg.switch_margin;
                    let dwelt = now_ns.saturating_sub(p.since_ns) >= self.cfg.min_dwell_ns;
                    if forced || (better && dwelt) {
                        let ping_pong = p.prev == Some(to);
                        self.stats.switches += 1;
                        self.stats.forced_switches += forced as u64;
                        self.stats.ping_pongs += ping_pong as u64;
                        self.stats.relay_switches += to.relay.is_some() as u64;
                        self.out.push_back(Output::Switched { a, b, from, to, forced, ping_pong });
                        Some((Some(to), Some(from)))
                    } else {
                        None
                    }
                }
                _ => None,
            };
            if let Some((path, prev)) = decision {
                let p = self.pairs.get_mut(&k).expect("listed");
                p.path = path;
                p.since_ns = now_ns;
                if prev.is_some() {
                    p.prev = prev;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;
    const S: u64 = 1_000_000_000;

    /// A square 0-1-2-3-0 with a diagonal 0-2: pair (0, 2) has a direct
    /// link and relays 1 and 3.
    fn square(cfg: TransportConfig) -> Transport {
        let l = |a: u16, b: u16, d_ms: u64| LinkSpec { a: RegionIx(a), b: RegionIx(b), delay_ns: d_ms * MS, loss: 0.0, jitter_ns: 0 };
        Transport::new(cfg, 4, vec![l(0, 1, 30), l(1, 2, 30), l(2, 3, 40), l(3, 0, 40), l(0, 2, 50)], 0).unwrap()
    }

    /// Drives `t` to `until` as a network whose links in `dead` answer no
    /// probe after `dead_from` and every other probe after `rtt(link)`.
    /// Returns every output with its time.
    fn drive(t: &mut Transport, until: u64, dead: &[u32], dead_from: u64) -> Vec<(u64, Output)> {
        let mut out = Vec::new();
        let mut replies: BTreeSet<(u64, u32, u64)> = BTreeSet::new();
        loop {
            let next_timer = t.poll_timeout().unwrap();
            let next_reply = replies.first().map(|r| r.0).unwrap_or(u64::MAX);
            let now = next_timer.min(next_reply);
            if now > until {
                break;
            }
            if next_reply <= next_timer {
                let (at, l, seq) = replies.pop_first().unwrap();
                let rtt = 2 * t.link(LinkIx(l)).delay_ns;
                t.handle_reply(at, LinkIx(l), seq, rtt);
            } else {
                t.handle_timeout(now);
            }
            while let Some(o) = t.poll_output() {
                if let Output::Probe { link, seq } = o {
                    let rtt = 2 * t.link(link).delay_ns;
                    // A reply in flight when the link dies is lost with it.
                    if !(dead.contains(&link.0) && now + rtt > dead_from) {
                        replies.insert((now + rtt, link.0, seq));
                    }
                } else {
                    out.push((now, o));
                }
            }
        }
        out
    }

    #[test]
    fn a_pair_takes_the_best_scoring_candidate_direct_first_on_ties() {
        let mut t = square(TransportConfig::default());
        let c = t.candidates(RegionIx(2), RegionIx(0));
        assert_eq!(c.iter().map(|p| p.relay).collect::<Vec<_>>(), vec![None, Some(RegionIx(1)), Some(RegionIx(3))]);
        // 50 ms direct against 60 ms through 1: the direct one scores higher.
        let p = t.route(0, RegionIx(2), RegionIx(0)).unwrap();
        assert_eq!(p.relay, None);
        // Pair (1, 3) has no direct link: through 0 (30 + 40) or 2 (30 + 40):
        // equal scores, the lower relay id.
        assert_eq!(t.route(0, RegionIx(1), RegionIx(3)).unwrap().relay, Some(RegionIx(0)));
        let direct = t.path_score(&c[0]);
        let expected = ScoreFn::default().score(&Observation { delay_us: 50_000, loss: 0.0, retransmit_rate: 0.0 });
        assert!((direct - expected).abs() < 1e-9);
    }

    /// Detection at the last reply + d x P (never later than fault + d x
    /// P), and the forced switch happens in that same instant.
    #[test]
    fn a_dead_link_is_declared_after_d_intervals_and_its_pairs_move_at_once() {
        for (p_ms, d) in [(1000u64, 3u32), (500, 4), (300, 2)] {
            let cfg = TransportConfig { probe_interval_ns: p_ms * MS, missed_probes: d, ..TransportConfig::default() };
            let mut t = square(cfg);
            assert_eq!(t.route(0, RegionIx(0), RegionIx(2)).unwrap().relay, None);
            let fault = 20 * S + 123 * MS;
            let outs = drive(&mut t, 60 * S, &[4], fault);
            let (down_at, last) = outs.iter().find_map(|(at, o)| match o {
                Output::LinkDown { link: LinkIx(4), last_reply_ns } => Some((*at, *last_reply_ns)),
                _ => None,
            }).expect("the diagonal goes down");
            assert!(last <= fault, "no reply after the fault");
            assert_eq!(down_at, last + d as u64 * p_ms * MS, "BFD: last reply + d x P");
            assert!(down_at <= fault + d as u64 * p_ms * MS);
            // Replies come every P: the last one is less than P before the fault.
            assert!(fault - last < p_ms * MS);
            let sw = outs.iter().find_map(|(at, o)| match o {
                Output::Switched { a, b, to, forced, .. } if (a.0, b.0) == (0, 2) => Some((*at, *to, *forced)),
                _ => None,
            }).expect("the pair moves");
            assert_eq!(sw.0, down_at);
            assert!(sw.2, "forced");
            assert_eq!(sw.1.relay, Some(RegionIx(1)), "the better relay (60 ms against 80)");
        }
    }

    #[test]
    fn a_pair_with_no_usable_candidate_is_unreachable_then_reachable() {
        // A line 0-1-2 with relays off: only the direct links.
        let l = |a: u16, b: u16| LinkSpec { a: RegionIx(a), b: RegionIx(b), delay_ns: 20 * MS, loss: 0.0, jitter_ns: 0 };
        let cfg = TransportConfig { relay: false, ..TransportConfig::default() };
        let mut t = Transport::new(cfg, 3, vec![l(0, 1), l(1, 2)], 0).unwrap();
        assert!(t.route(0, RegionIx(0), RegionIx(2)).is_none(), "no direct link, no relay");
        t.route(0, RegionIx(0), RegionIx(1)).unwrap();
        let outs = drive(&mut t, 10 * S, &[0], 5 * S);
        assert!(outs.iter().any(|(_, o)| matches!(o, Output::Unreachable { a: RegionIx(0), b: RegionIx(1), .. })));
        assert_eq!(t.current(RegionIx(0), RegionIx(1)), None);
        // With the relay rule, 0-2 goes through 1.
        let mut t = Transport::new(TransportConfig::default(), 3, vec![l(0, 1), l(1, 2)], 0).unwrap();
        assert_eq!(t.route(0, RegionIx(0), RegionIx(2)).unwrap().relay, Some(RegionIx(1)));
    }

    /// After the repair the direct link scores better again, but the pair
    /// goes back only after the dwell time, and that is an A-B-A.
    #[test]
    fn the_way_back_waits_for_the_dwell_time_and_counts_as_a_ping_pong() {
        // 50 ms direct scores 98.10, 60 ms through 1 scores 97.69.
        let cfg = TransportConfig { min_dwell_ns: 120 * S, switch_margin: 0.2, half_life_ns: 2 * S, loss_half_life_ns: 2 * S, ..TransportConfig::default() };
        let mut t = square(cfg);
        t.route(0, RegionIx(0), RegionIx(2));
        // Dead from 10 s; alive again from 20 s (replies resume).
        let mut outs = drive(&mut t, 20 * S, &[4], 10 * S);
        outs.extend(drive(&mut t, 400 * S, &[], u64::MAX));
        let switches: Vec<(u64, bool, bool)> = outs.iter().filter_map(|(at, o)| match o {
            Output::Switched { forced, ping_pong, .. } => Some((*at, *forced, *ping_pong)),
            _ => None,
        }).collect();
        assert_eq!(switches.len(), 2, "{switches:?}");
        assert!(switches[0].1 && !switches[0].2);
        assert!(!switches[1].1 && switches[1].2);
        assert!(switches[1].0 >= switches[0].0 + 120 * S, "dwell respected: {switches:?}");
        assert!(outs.iter().any(|(_, o)| matches!(o, Output::LinkUp { link: LinkIx(4) })));
        assert_eq!(t.stats().ping_pongs, 1);
    }

    /// One lost probe in a window is noise; a 10% loss is not. The score
    /// is checked against ScoreFn on the expected estimate: the loss
    /// average over the window less two probes' worth.
    #[test]
    fn a_lone_lost_probe_is_noise_but_a_sustained_loss_lowers_the_score() {
        let run = |lose: &dyn Fn(u64) -> bool| {
            let l = LinkSpec { a: RegionIx(0), b: RegionIx(1), delay_ns: 40 * MS, loss: 0.0, jitter_ns: 0 };
            let mut t = Transport::new(TransportConfig::default(), 2, vec![l], 0).unwrap();
            for k in 0..600u64 {
                let now = k * S;
                t.handle_timeout(now);
                while let Some(o) = t.poll_output() {
                    if let Output::Probe { link, seq } = o {
                        if !lose(seq) {
                            t.handle_reply(now + 80 * MS, link, seq, 80 * MS);
                        }
                    }
                }
            }
            t.link_score(LinkIx(0))
        };
        let clean = ScoreFn::default().score(&Observation { delay_us: 40_000, loss: 0.0, retransmit_rate: 0.0 });
        assert!((run(&|_| false) - clean).abs() < 1e-9);
        assert!((run(&|seq| seq == 550) - clean).abs() < 1e-9, "one loss 50 s ago is noise");
        // Every tenth probe lost: the window's loss is 10% (the weights
        // of a periodic pattern average out to within 1%), less 2/87.
        let lossy = run(&|seq| seq % 10 == 0);
        let per_window = 1.0 / (1.0 - cdnsim_maths::powf(2.0, -1.0 / 60.0));
        let lo = ScoreFn::default().score(&Observation { delay_us: 40_000, loss: 0.11 - 2.0 / per_window, retransmit_rate: 0.0 });
        let hi = ScoreFn::default().score(&Observation { delay_us: 40_000, loss: 0.09 - 2.0 / per_window, retransmit_rate: 0.0 });
        assert!(lossy > lo && lossy < hi, "{lo} < {lossy} < {hi}");
        assert!(clean - lossy > 3.0);
    }

    #[test]
    fn lost_probes_raise_the_loss_estimate_and_bad_configs_are_named() {
        let mut t = square(TransportConfig::default());
        // Every probe of link 0 is lost from the start, the link goes down,
        // and its loss estimate climbs towards 1.
        drive(&mut t, 30 * S, &[0], 0);
        assert!(!t.is_up(LinkIx(0)));
        assert!(t.links[0].loss.value() > 0.8, "{}", t.links[0].loss.value());
        assert!(t.stats().probes_lost >= 25);
        let bad = TransportConfig { probe_interval_ns: 0, ..TransportConfig::default() };
        assert_eq!(Transport::new(bad, 2, vec![], 0).unwrap_err().field, "probe_interval_ns");
        let l = LinkSpec { a: RegionIx(0), b: RegionIx(1), delay_ns: MS, loss: 0.0, jitter_ns: 0 };
        let e = Transport::new(TransportConfig::default(), 2, vec![l, LinkSpec { a: RegionIx(1), b: RegionIx(0), ..l }], 0).unwrap_err();
        assert_eq!(e.field, "links[1].b");
    }
}
