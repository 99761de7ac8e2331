//! How many symbols to request per block: a BBR-like estimator per sender
//! and a controller that turns the estimates into a request.
//!
//! # Estimator (per sender)
//!
//! The client reports, per measurement interval, the symbols it asked the
//! sender for and the symbols that arrived ([`IntervalReport`]).
//!
//! - **Delivery rate**: symbols received / interval length; the estimate is
//!   the maximum over the last `rate_window` intervals (BBR's bottleneck
//!   bandwidth filter: a short dip does not hide what the path can carry).
//! - **Loss**: exponentially smoothed counts, `R <- (1-g) R + requested` and
//!   `A <- (1-g) A + received` with gain g, and loss = 1 - A/R clamped to
//!   [0, 1]. Smoothing the counts rather than per-interval ratios weighs
//!   intervals by their traffic, and lets arrivals that cross an interval
//!   boundary cancel out. For steady traffic the estimate's variance is that
//!   of a plain proportion over n_eff = R (2 - g) symbols, so the controller
//!   uses the Wilson upper bound at `confidence_z` over n_eff: with few
//!   symbols measured it stays cautious, with many it closes in on the mean.
//!   Before any symbol was requested the loss is `initial_loss`.
//!
//! # Controller
//!
//! For a block of K source symbols it takes the senders' loss bounds,
//! weighted by their windowed delivery rates (the share of the block each
//! carries), as one loss p, and requests the smallest n with
//! P(Binomial(n, 1 - p) >= K + h) >= `target`, capped at
//! K (1 + `max_redundancy`). Using one binomial for senders with different
//! losses is conservative: the sum of binomials with mixed success
//! probabilities has less variance than one binomial with their mean, so
//! its lower tail is lighter. The request is split over the senders in
//! proportion to their delivery rates (largest remainder, ties to the lower
//! sender id), and the plan reports how many symbols the senders can
//! deliver in one block duration at those rates, so a caller can see when
//! the request exceeds the path (and fall back to the server).

use cdnsim_maths::{exp, ln};
use std::collections::{BTreeMap, VecDeque};

use crate::error::CodecError;
use crate::table::wilson_interval;

/// What a client saw from one sender over one interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntervalReport {
    pub interval_ns: u64,
    /// Symbols asked for during the interval.
    pub requested: u64,
    /// Symbols that arrived during the interval.
    pub received: u64,
}

/// Settings of the estimator and the controller.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RedundancyConfig {
    /// h: symbols beyond K to aim for (RFC 6330: failure ~1e-6 at K + 2;
    /// docs/references.md, Decode failure).
    pub headroom_symbols: u32,
    /// Probability that a block gets its K + h symbols.
    pub target: f64,
    /// g, the gain of the smoothed loss counts, per interval.
    pub loss_gain: f64,
    /// z of the Wilson upper bound on the loss.
    pub confidence_z: f64,
    /// Loss assumed for a sender before it was asked for anything.
    pub initial_loss: f64,
    /// Intervals in the delivery-rate max filter.
    pub rate_window: usize,
    /// The request is at most K (1 + max_redundancy) symbols.
    pub max_redundancy: f64,
    /// Senders tracked at most.
    pub max_senders: usize,
}

impl Default for RedundancyConfig {
    fn default() -> Self {
        RedundancyConfig {
            headroom_symbols: 2,
            target: 0.999,
            loss_gain: 1.0 / 8.0,
            confidence_z: 2.0,
            initial_loss: 0.1,
            rate_window: 10,
            max_redundancy: 1.0,
            max_senders: 256,
        }
    }
}

impl RedundancyConfig {
    pub fn check(&self) -> Result<(), CodecError> {
        let bad = |field, value, expected| Err(CodecError::Config { field, value, expected });
        if !(self.target > 0.0 && self.target < 1.0) {
            return bad("target", self.target, "a probability in (0, 1)");
        }
        if !(self.loss_gain > 0.0 && self.loss_gain <= 1.0) {
            return bad("loss_gain", self.loss_gain, "a gain in (0, 1]");
        }
        if !(self.confidence_z >= 0.0 && self.confidence_z.is_finite()) {
            return bad("confidence_z", self.confidence_z, "a finite number >= 0");
        }
        if !(0.0..1.0).contains(&self.initial_loss) {
            return bad("initial_loss", self.initial_loss, "a loss in [0, 1)");
        }
        if self.rate_window == 0 {
            return bad("rate_window", 0.0, "at least 1 interval");
        }
        if !(self.max_redundancy >= 0.0 && self.max_redundancy <= 100.0) {
            return bad("max_redundancy", self.max_redundancy, "a ratio in [0, 100]");
        }
        if self.max_senders == 0 {
            return bad("max_senders", 0.0, "at least 1");
        }
        Ok(())
    }
}

/// One sender's delivery rate and loss (see the module documentation).
#[derive(Debug, Clone)]
pub struct SenderEstimator {
    gain: f64,
    requested: f64,
    received: f64,
    rates_sps: VecDeque<f64>,
    window: usize,
}

impl SenderEstimator {
    pub fn new(config: &RedundancyConfig) -> SenderEstimator {
        SenderEstimator {
            gain: config.loss_gain,
            requested: 0.0,
            received: 0.0,
            rates_sps: VecDeque::with_capacity(config.rate_window),
            window: config.rate_window,
        }
    }

    pub fn report(&mut self, r: IntervalReport) {
        let keep = 1.0 - self.gain;
        self.requested = keep * self.requested + r.requested as f64;
        self.received = keep * self.received + r.received as f64;
        if r.interval_ns > 0 {
            if self.rates_sps.len() == self.window {
                self.rates_sps.pop_front();
            }
            self.rates_sps.push_back(r.received as f64 * 1e9 / r.interval_ns as f64);
        }
    }

    /// Smoothed loss, or None before any symbol was requested.
    pub fn loss(&self) -> Option<f64> {
        (self.requested > 0.0).then(|| (1.0 - self.received / self.requested).clamp(0.0, 1.0))
    }

    /// The effective number of symbols behind [`SenderEstimator::loss`].
    pub fn effective_symbols(&self) -> f64 {
        self.requested * (2.0 - self.gain)
    }

    /// Wilson upper bound on the loss at `z`; `initial` before any data.
    pub fn loss_upper(&self, z: f64, initial: f64) -> f64 {
        let Some(p) = self.loss() else { return initial };
        let n = self.effective_symbols();
        if n < 1.0 {
            return initial.max(p);
        }
        // wilson_interval works on counts; scale to an integer n_eff.
        let trials = n.round() as u64;
        let hits = (p * trials as f64).round() as u64;
        wilson_interval(hits.min(trials), trials, z).1
    }

    /// Windowed maximum delivery rate, symbols per second (0 before data).
    pub fn max_rate_sps(&self) -> f64 {
        self.rates_sps.iter().copied().fold(0.0, f64::max)
    }
}

/// What to request for one block.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Symbols to request in total.
    pub symbols: u32,
    /// The loss the request was computed for.
    pub loss_used: f64,
    /// False when the cap stopped the request short of the target.
    pub reaches_target: bool,
    /// Symbols the senders deliver in one block duration at their windowed
    /// maximum rates.
    pub deliverable_symbols: f64,
    /// `symbols` split over senders (sender id, symbols), by sender id.
    pub per_sender: Vec<(u64, u32)>,
}

/// Per-client redundancy control over the senders it pulls from.
#[derive(Debug, Clone)]
pub struct RedundancyController {
    config: RedundancyConfig,
    /// By sender id (a client has tens of senders: a sorted vector is
    /// searched faster than a tree and iterates in the same order).
    senders: Vec<(u64, SenderEstimator)>,
}

impl RedundancyController {
    pub fn new(config: RedundancyConfig) -> Result<RedundancyController, CodecError> {
        config.check()?;
        Ok(RedundancyController { config, senders: Vec::new() })
    }

    pub fn config(&self) -> &RedundancyConfig {
        &self.config
    }

    /// Records a report; a new sender is tracked from its first report.
    pub fn report(&mut self, sender: u64, r: IntervalReport) -> Result<(), CodecError> {
        let at = match self.senders.binary_search_by_key(&sender, |s| s.0) {
            Ok(i) => {
                self.senders[i].1.report(r);
                return Ok(());
            }
            Err(at) => at,
        };
        if self.senders.len() >= self.config.max_senders {
            return Err(CodecError::TooManySenders { sender, max: self.config.max_senders });
        }
        let mut e = SenderEstimator::new(&self.config);
        e.report(r);
        self.senders.insert(at, (sender, e));
        Ok(())
    }

    /// Forgets a sender (evicted or gone).
    pub fn remove_sender(&mut self, sender: u64) {
        if let Ok(i) = self.senders.binary_search_by_key(&sender, |s| s.0) {
            self.senders.remove(i);
        }
    }

    pub fn sender(&self, sender: u64) -> Option<&SenderEstimator> {
        self.senders.binary_search_by_key(&sender, |s| s.0).ok().map(|i| &self.senders[i].1)
    }

    /// The request for a block of `k` source symbols lasting
    /// `block_duration_ns` (used only for `deliverable_symbols`).
    pub fn plan(&self, k: u16, block_duration_ns: u64) -> Plan {
        self.plan_with(k, block_duration_ns, &mut |k, h, loss, target, cap| symbols_needed(k, h, loss, target, cap))
    }

    /// `plan_cached(..).symbols` without building the plan (no allocation).
    pub fn plan_symbols_cached(&self, k: u16, cache: &mut NeededCache) -> u32 {
        let (loss, cap) = self.loss_and_cap(k);
        cache.symbols_needed(k, self.config.headroom_symbols, loss, self.config.target, cap).unwrap_or(cap)
    }

    /// The loss a plan assumes (the senders' loss bounds weighted by their
    /// delivery rates, equal weights while none has a rate) and the most
    /// symbols it may ask for.
    fn loss_and_cap(&self, k: u16) -> (f64, u32) {
        let c = &self.config;
        let total_rate: f64 = self.senders.iter().map(|s| s.1.max_rate_sps()).sum();
        let n = self.senders.len().max(1) as f64;
        let loss = if self.senders.is_empty() {
            c.initial_loss
        } else {
            self.senders
                .iter()
                .map(|(_, s)| {
                    let w = if total_rate > 0.0 { s.max_rate_sps() / total_rate } else { 1.0 / n };
                    w * s.loss_upper(c.confidence_z, c.initial_loss)
                })
                .sum::<f64>()
                .clamp(0.0, 1.0)
        };
        let floor = k as u32 + c.headroom_symbols;
        // The tolerance keeps 100 x 0.1 at 10 symbols, not 11.
        let cap = (k as u32 + (k as f64 * c.max_redundancy - 1e-9).ceil() as u32).max(floor);
        (loss, cap)
    }

    /// [`RedundancyController::plan`] with the loss rounded up to the grid of
    /// `cache` and `symbols_needed` remembered there: the same request or a
    /// slightly larger one, for a lookup instead of a binary search over
    /// binomial tails (many clients plan every block).
    pub fn plan_cached(&self, k: u16, block_duration_ns: u64, cache: &mut NeededCache) -> Plan {
        self.plan_with(k, block_duration_ns, &mut |k, h, loss, target, cap| cache.symbols_needed(k, h, loss, target, cap))
    }

    fn plan_with(
        &self,
        k: u16,
        block_duration_ns: u64,
        needed: &mut dyn FnMut(u16, u32, f64, f64, u32) -> Option<u32>,
    ) -> Plan {
        let c = &self.config;
        let (loss, cap) = self.loss_and_cap(k);
        let rates: Vec<f64> = self.senders.iter().map(|s| s.1.max_rate_sps()).collect();
        let total_rate: f64 = rates.iter().sum();
        let weights: Vec<f64> = if total_rate > 0.0 {
            rates.iter().map(|r| r / total_rate).collect()
        } else {
            vec![1.0 / self.senders.len().max(1) as f64; self.senders.len()]
        };
        let (symbols, reaches_target) = match needed(k, c.headroom_symbols, loss, c.target, cap) {
            Some(n) => (n, true),
            None => (cap, false),
        };
        let ids: Vec<u64> = self.senders.iter().map(|s| s.0).collect();
        Plan {
            symbols,
            loss_used: loss,
            reaches_target,
            deliverable_symbols: total_rate * block_duration_ns as f64 / 1e9,
            per_sender: split(symbols, &ids, &weights),
        }
    }
}

/// `total` split by `weights` (summing to 1) with the largest-remainder
/// rule; ties go to the earlier id.
fn split(total: u32, ids: &[u64], weights: &[f64]) -> Vec<(u64, u32)> {
    if ids.is_empty() {
        return Vec::new();
    }
    let exact: Vec<f64> = weights.iter().map(|w| w * total as f64).collect();
    let mut shares: Vec<u32> = exact.iter().map(|x| x.floor() as u32).collect();
    let mut left = total.saturating_sub(shares.iter().sum());
    let mut order: Vec<usize> = (0..ids.len()).collect();
    order.sort_by(|&a, &b| (exact[b] - exact[b].floor()).total_cmp(&(exact[a] - exact[a].floor())).then(a.cmp(&b)));
    for &i in order.iter().cycle() {
        if left == 0 {
            break;
        }
        shares[i] += 1;
        left -= 1;
    }
    ids.iter().copied().zip(shares).collect()
}

/// P(Binomial(n, q) >= m), summed in log space so that large n neither
/// underflows nor overflows.
pub fn binomial_tail(n: u32, q: f64, m: u32) -> f64 {
    if m == 0 {
        return 1.0;
    }
    if m > n || q <= 0.0 {
        return 0.0;
    }
    if q >= 1.0 {
        return 1.0;
    }
    // ln pmf(m) = ln C(n, m) + m ln q + (n - m) ln(1 - q)
    let mut ln_c = 0.0;
    for i in 1..=m {
        ln_c += ln((n - m + i) as f64 / i as f64);
    }
    let (ln_q, ln_1q) = (ln(q), ln(1.0 - q));
    let mut ln_terms = Vec::with_capacity((n - m + 1) as usize);
    let mut ln_pmf = ln_c + m as f64 * ln_q + (n - m) as f64 * ln_1q;
    ln_terms.push(ln_pmf);
    for x in m..n {
        ln_pmf += ln((n - x) as f64 / (x + 1) as f64) + ln_q - ln_1q;
        ln_terms.push(ln_pmf);
    }
    let top = ln_terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let sum: f64 = ln_terms.iter().map(|t| exp(t - top)).sum();
    exp(top + ln(sum)).min(1.0)
}

/// Memo of [`symbols_needed`] on a grid of losses: a loss is rounded up to
/// the next multiple of 1 / `LOSS_GRID` (so the answer can only be the
/// same or larger), and answers are kept per (K, headroom, loss step,
/// target, cap), at most `NEEDED_CACHE_ENTRIES` of them (then it starts
/// afresh).
#[derive(Debug, Default, Clone)]
pub struct NeededCache {
    entries: BTreeMap<(u16, u32, u32, u64, u32), Option<u32>>,
}

/// Loss steps per unit: 1/8192 is below any loss a client can measure in
/// a few blocks.
pub const LOSS_GRID: f64 = 8192.0;
pub const NEEDED_CACHE_ENTRIES: usize = 65_536;

impl NeededCache {
    pub fn new() -> NeededCache {
        NeededCache::default()
    }

    pub fn symbols_needed(&mut self, k: u16, headroom: u32, loss: f64, target: f64, max_symbols: u32) -> Option<u32> {
        let step = (loss.clamp(0.0, 1.0) * LOSS_GRID).ceil() as u32;
        let key = (k, headroom, step, target.to_bits(), max_symbols);
        if let Some(&n) = self.entries.get(&key) {
            return n;
        }
        if self.entries.len() >= NEEDED_CACHE_ENTRIES {
            self.entries.clear();
        }
        let n = symbols_needed(k, headroom, step as f64 / LOSS_GRID, target, max_symbols);
        self.entries.insert(key, n);
        n
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The smallest n in [K + h, max_symbols] with
/// P(Binomial(n, 1 - loss) >= K + h) >= target, or None if even
/// `max_symbols` falls short. The tail grows with n: binary search.
pub fn symbols_needed(k: u16, headroom: u32, loss: f64, target: f64, max_symbols: u32) -> Option<u32> {
    let need = k as u32 + headroom;
    let q = 1.0 - loss.clamp(0.0, 1.0);
    if max_symbols < need || binomial_tail(max_symbols, q, need) < target {
        return None;
    }
    let (mut lo, mut hi) = (need, max_symbols);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if binomial_tail(mid, q, need) >= target {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    Some(lo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_plans_ask_the_same_or_slightly_more() {
        let mut cache = NeededCache::new();
        for &loss in &[0.0, 0.001, 0.01, 0.0123, 0.05, 0.2] {
            let exact = symbols_needed(100, 2, loss, 0.999, 200).unwrap();
            let cached = cache.symbols_needed(100, 2, loss, 0.999, 200).unwrap();
            let again = cache.symbols_needed(100, 2, loss, 0.999, 200).unwrap();
            assert_eq!(cached, again);
            // One grid step of extra loss costs at most one symbol here.
            assert!(cached >= exact && cached <= exact + 1, "loss {loss}: exact {exact}, cached {cached}");
        }
        assert_eq!(cache.len(), 6);
    }

    #[test]
    fn binomial_tail_small_cases_exact() {
        // Bin(3, 0.5) >= 2: 4/8.
        assert!((binomial_tail(3, 0.5, 2) - 0.5).abs() < 1e-12);
        // Bin(4, 0.9) >= 4 = 0.9^4.
        assert!((binomial_tail(4, 0.9, 4) - 0.9f64.powi(4)).abs() < 1e-12);
        assert_eq!(binomial_tail(4, 0.9, 0), 1.0);
        assert_eq!(binomial_tail(4, 0.9, 5), 0.0);
        assert_eq!(binomial_tail(4, 1.0, 4), 1.0);
        assert_eq!(binomial_tail(4, 0.0, 1), 0.0);
        // Large n: no underflow; Bin(20000, 0.5) >= 10000 is just above 1/2.
        let t = binomial_tail(20_000, 0.5, 10_000);
        assert!(t > 0.5 && t < 0.51, "{t}");
    }

    #[test]
    fn no_loss_needs_exactly_k_plus_h() {
        assert_eq!(symbols_needed(100, 2, 0.0, 0.999, 1000), Some(102));
        assert_eq!(symbols_needed(100, 2, 0.5, 0.999, 150), None);
    }

    #[test]
    fn config_checks_name_the_field() {
        let c = RedundancyConfig { target: 1.0, ..RedundancyConfig::default() };
        assert!(matches!(RedundancyController::new(c), Err(CodecError::Config { field: "target", .. })));
        let c = RedundancyConfig { rate_window: 0, ..RedundancyConfig::default() };
        assert!(matches!(c.check(), Err(CodecError::Config { field: "rate_window", .. })));
        let c = RedundancyConfig { loss_gain: 0.0, ..RedundancyConfig::default() };
        assert!(matches!(c.check(), Err(CodecError::Config { field: "loss_gain", .. })));
    }

    #[test]
    fn rate_is_a_windowed_max() {
        let c = RedundancyConfig { rate_window: 3, ..RedundancyConfig::default() };
        let mut s = SenderEstimator::new(&c);
        assert_eq!(s.max_rate_sps(), 0.0);
        assert_eq!(s.loss(), None);
        assert_eq!(s.loss_upper(2.0, 0.1), 0.1);
        let sec = 1_000_000_000;
        for received in [100, 300, 200, 150, 120] {
            s.report(IntervalReport { interval_ns: sec, requested: 300, received });
        }
        // Window holds 200, 150, 120: the 300 has left it.
        assert_eq!(s.max_rate_sps(), 200.0);
        s.report(IntervalReport { interval_ns: sec / 2, requested: 0, received: 200 });
        assert_eq!(s.max_rate_sps(), 400.0);
    }

    #[test]
    fn senders_are_bounded_and_split_follows_rates() {
        let c = RedundancyConfig { max_senders: 2, ..RedundancyConfig::default() };
        let mut ctl = RedundancyController::new(c).unwrap();
        let sec = 1_000_000_000;
        ctl.report(7, IntervalReport { interval_ns: sec, requested: 100, received: 100 }).unwrap();
        ctl.report(3, IntervalReport { interval_ns: sec, requested: 300, received: 300 }).unwrap();
        assert!(matches!(
            ctl.report(9, IntervalReport { interval_ns: sec, requested: 1, received: 1 }),
            Err(CodecError::TooManySenders { sender: 9, max: 2 })
        ));
        let plan = ctl.plan(100, sec);
        assert_eq!(plan.deliverable_symbols, 400.0);
        let total: u32 = plan.per_sender.iter().map(|s| s.1).sum();
        assert_eq!(total, plan.symbols);
        assert_eq!(plan.per_sender[0].0, 3);
        // 3:1 by rate, to within the one symbol of rounding.
        assert!((plan.per_sender[0].1 as f64 - 0.75 * plan.symbols as f64).abs() <= 1.0, "{plan:?}");
        ctl.remove_sender(3);
        assert!(ctl.sender(3).is_none());
        ctl.report(9, IntervalReport { interval_ns: sec, requested: 1, received: 1 }).unwrap();
    }

    #[test]
    fn cap_stops_the_request() {
        let c = RedundancyConfig { max_redundancy: 0.1, initial_loss: 0.5, ..RedundancyConfig::default() };
        let ctl = RedundancyController::new(c).unwrap();
        let plan = ctl.plan(100, 1_000_000_000);
        assert_eq!(plan.symbols, 110);
        assert!(!plan.reaches_target);
        assert!(plan.per_sender.is_empty());
    }

    #[test]
    fn split_is_exact_and_deterministic() {
        assert_eq!(split(10, &[1, 2, 3], &[1.0 / 3.0; 3]), vec![(1, 4), (2, 3), (3, 3)]);
        assert_eq!(split(0, &[1], &[1.0]), vec![(1, 0)]);
    }
}
