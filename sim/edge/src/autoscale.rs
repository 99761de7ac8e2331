//! Scaling: pods by an HPA-like multi-metric rule, machines by a forecast.
//!
//! # Pods: [`Autoscaler`]
//!
//! Every `sync_period_ns` the autoscaler compares each metric's per-pod
//! value with its target. The largest ratio decides (the metric that would
//! need most pods), as in the Kubernetes HPA with several metrics:
//! `desired = ceil(current * ratio)`, unchanged when `|ratio - 1| <=
//! tolerance`. Scale-in is stabilised: the applied count is the largest
//! recommendation of the last `scale_in_window_ns`, so a dip shorter than
//! the window does not remove pods. Scale-out applies at once.
//!
//! Run loop: [`observe`](Autoscaler::observe) the fleet's totals whenever
//! they change (or before each sync); [`set_current`](Autoscaler::set_current)
//! when pods are created or leave; call
//! [`handle_timeout`](Autoscaler::handle_timeout) at
//! [`poll_timeout`](Autoscaler::poll_timeout); drain
//! [`poll_decision`](Autoscaler::poll_decision). The caller carries a
//! decision out (revive tombstone pods first, then create; scale in by
//! tombstoning the emptiest pods).
//!
//! # Machines: [`Forecaster`] and [`MachinePlanner`]
//!
//! The talk predicts each room's utilisation and buys or returns machines
//! ahead of it (docs/references.md, Edge-container design). The predictor
//! here is deliberately simple and documented: the forecast for hour `h`
//! is the value at the same hour one day before, plus the trend, the
//! latest hour's change over the same hour a day before it
//! (`x[h-24] + (x[t] - x[t-24])`, `t` the latest hour). It needs one day
//! and one hour of history and looks at most 24 h ahead. The planner asks
//! for the forecast `lead_time` ahead (machines bought now are ready
//! then), adds headroom, buys the shortfall and releases the surplus
//! (cordon, drain, release: carried out by the caller on the cluster).

use std::collections::VecDeque;

use crate::error::{EdgeError, invalid};
use crate::workload::NS_PER_HOUR;

/// Number of autoscaling metrics.
pub const NUM_METRICS: usize = 7;
/// Bound on the recommendations kept for the stabilisation window.
pub const MAX_RECOMMENDATIONS: usize = 4_096;
/// Bound on forecaster history, hours (two weeks).
pub const MAX_HISTORY_HOURS: usize = 14 * 24;
/// Bound on queued outputs of one state machine.
pub const MAX_OUTPUTS: usize = 1_024;

/// An autoscaling metric (the talk's list:
/// docs/references.md, Edge-container design).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    /// Bandwidth, bps.
    Bandwidth = 0,
    /// Packets per second.
    Pps = 1,
    /// Streams pushed into a server: publishers and inbound cascade legs.
    PushStreams = 2,
    /// Streams pulled out of a server: subscribers and outbound legs.
    PullStreams = 3,
    /// CPU, millicores.
    Cpu = 4,
    /// Memory, bytes.
    Memory = 5,
    /// Sessions (publishers and subscribers: users, not relays).
    Sessions = 6,
}

impl Metric {
    /// All metrics in index order.
    pub const ALL: [Metric; NUM_METRICS] =
        [Metric::Bandwidth, Metric::Pps, Metric::PushStreams, Metric::PullStreams, Metric::Cpu, Metric::Memory, Metric::Sessions];
}

/// Autoscaler settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AutoscalerConfig {
    /// Per-pod target of each metric; `None` ignores the metric.
    pub targets: [Option<f64>; NUM_METRICS],
    /// Time between syncs (HPA default 15 s;
    /// docs/references.md, HPA defaults).
    pub sync_period_ns: u64,
    /// No change while the deciding ratio is within 1 +- tolerance (HPA
    /// default 0.1).
    pub tolerance: f64,
    /// Scale-in stabilisation window (HPA default 300 s).
    pub scale_in_window_ns: u64,
    /// Fewest pods.
    pub min_pods: u32,
    /// Most pods.
    pub max_pods: u32,
}

impl AutoscalerConfig {
    /// Checks the settings.
    pub fn validate(&self) -> Result<(), EdgeError> {
        if self.targets.iter().all(Option::is_none) {
            return Err(invalid("autoscaler", "targets", "at least one metric target", "none"));
        }
        if let Some(t) = self.targets.iter().flatten().find(|t| !(t.is_finite() && **t > 0.0)) {
            return Err(invalid("autoscaler", "targets", "finite targets > 0", t));
        }
        if self.sync_period_ns == 0 {
            return Err(invalid("autoscaler", "sync_period_ns", "> 0", 0));
        }
        if !(self.tolerance >= 0.0 && self.tolerance < 1.0) {
            return Err(invalid("autoscaler", "tolerance", "in [0, 1)", self.tolerance));
        }
        if self.min_pods > self.max_pods {
            return Err(invalid("autoscaler", "min_pods", "at most max_pods", self.min_pods));
        }
        if self.scale_in_window_ns / self.sync_period_ns > MAX_RECOMMENDATIONS as u64 {
            return Err(invalid("autoscaler", "scale_in_window_ns", "at most 4096 sync periods", self.scale_in_window_ns));
        }
        Ok(())
    }
}

/// A scaling decision.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScaleDecision {
    /// Sync time.
    pub at_ns: u64,
    /// Pods before.
    pub from: u32,
    /// Pods wanted.
    pub to: u32,
    /// The metric with the largest ratio, and that ratio.
    pub deciding: Option<(Metric, f64)>,
}

/// The pod autoscaler of one service in one pool. See the module docs.
#[derive(Clone, Debug)]
pub struct Autoscaler {
    cfg: AutoscalerConfig,
    next_sync_ns: u64,
    current: u32,
    totals: [f64; NUM_METRICS],
    recommendations: VecDeque<(u64, u32)>,
    decisions: VecDeque<ScaleDecision>,
}

impl Autoscaler {
    /// An autoscaler with `current` pods; its first sync at
    /// `start_ns + sync_period_ns`. The stabilisation window starts with
    /// `current` recommended at `start_ns`: a fleet sized for its load is
    /// not scaled in before one window of observations says it should be
    /// (without this, a fleet created ahead of its load, as at the start
    /// of a run, would be cut to the first sync's small sample).
    pub fn new(cfg: AutoscalerConfig, start_ns: u64, current: u32) -> Result<Self, EdgeError> {
        cfg.validate()?;
        Ok(Autoscaler {
            cfg,
            next_sync_ns: start_ns.saturating_add(cfg.sync_period_ns),
            current,
            totals: [0.0; NUM_METRICS],
            recommendations: VecDeque::from([(start_ns, current)]),
            decisions: VecDeque::new(),
        })
    }

    /// The fleet's totals of each metric (sums over its ready pods).
    pub fn observe(&mut self, totals: [f64; NUM_METRICS]) {
        self.totals = totals;
    }

    /// Pods now serving (after the caller carried out a decision, or pods
    /// left).
    pub fn set_current(&mut self, pods: u32) {
        self.current = pods;
    }

    /// Pods now.
    pub fn current(&self) -> u32 {
        self.current
    }

    /// The next sync.
    pub fn poll_timeout(&self) -> Option<u64> {
        Some(self.next_sync_ns)
    }

    /// The next decision (only changes are reported).
    pub fn poll_decision(&mut self) -> Option<ScaleDecision> {
        self.decisions.pop_front()
    }

    /// The raw recommendation for the current observation (no
    /// stabilisation): the HPA rule.
    pub fn recommend(&self) -> (u32, Option<(Metric, f64)>) {
        let mut deciding: Option<(Metric, f64)> = None;
        let per = self.current.max(1) as f64;
        for m in Metric::ALL {
            if let Some(target) = self.cfg.targets[m as usize] {
                let ratio = self.totals[m as usize] / per / target;
                if deciding.is_none_or(|(_, r)| ratio > r) {
                    deciding = Some((m, ratio));
                }
            }
        }
        let (_, ratio) = deciding.expect("validated: a target exists");
        let raw = if self.current == 0 {
            // No pods: size from the totals directly.
            ratio.ceil()
        } else if (ratio - 1.0).abs() <= self.cfg.tolerance {
            self.current as f64
        } else {
            (self.current as f64 * ratio).ceil()
        };
        let raw = if raw.is_finite() { raw.min(u32::MAX as f64) as u32 } else { self.cfg.max_pods };
        (raw.clamp(self.cfg.min_pods, self.cfg.max_pods), deciding)
    }

    /// Runs every sync due at or before `now_ns`.
    pub fn handle_timeout(&mut self, now_ns: u64) {
        while self.next_sync_ns <= now_ns {
            let at = self.next_sync_ns;
            self.next_sync_ns = at.saturating_add(self.cfg.sync_period_ns);
            let (rec, deciding) = self.recommend();
            self.recommendations.push_back((at, rec));
            while let Some(&(t, _)) = self.recommendations.front() {
                if t + self.cfg.scale_in_window_ns < at || self.recommendations.len() > MAX_RECOMMENDATIONS {
                    self.recommendations.pop_front();
                } else {
                    break;
                }
            }
            let to = if rec >= self.current {
                rec
            } else {
                // Scale in only to the highest recommendation in the window.
                self.recommendations.iter().map(|&(_, r)| r).max().unwrap_or(rec).min(self.current)
            };
            if to != self.current && self.decisions.len() < MAX_OUTPUTS {
                self.decisions.push_back(ScaleDecision { at_ns: at, from: self.current, to, deciding });
                self.current = to;
            }
        }
    }
}

/// Hourly history and the same-hour-yesterday-plus-trend predictor.
#[derive(Clone, Debug, Default)]
pub struct Forecaster {
    hours: VecDeque<f64>,
}

impl Forecaster {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends the value of the hour just ended (e.g. its peak demand, in
    /// machines). Keeps at most [`MAX_HISTORY_HOURS`].
    pub fn record_hour(&mut self, value: f64) {
        if self.hours.len() == MAX_HISTORY_HOURS {
            self.hours.pop_front();
        }
        self.hours.push_back(value);
    }

    /// Hours recorded.
    pub fn len(&self) -> usize {
        self.hours.len()
    }

    /// True when nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.hours.is_empty()
    }

    /// The forecast `hours_ahead` (1..=24) after the latest hour, or
    /// `Ok(None)` with less than 25 hours of history. Never negative.
    pub fn forecast(&self, hours_ahead: u64) -> Result<Option<f64>, EdgeError> {
        if hours_ahead == 0 || hours_ahead > 24 {
            return Err(EdgeError::ForecastHorizon { hours_ahead, horizon_hours: 24 });
        }
        let n = self.hours.len();
        if n < 25 {
            return Ok(None);
        }
        let t = n - 1;
        let trend = self.hours[t] - self.hours[t - 24];
        let same_hour_yesterday = self.hours[t + hours_ahead as usize - 24];
        Ok(Some((same_hour_yesterday + trend).max(0.0)))
    }
}

/// Machine planner settings for one room (or pool).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlannerConfig {
    /// Time from buying a machine to its being ready (the talk: buy /
    /// onboard); a whole number of hours, 1..=24.
    pub lead_time_ns: u64,
    /// Demand one machine covers, in the forecast's unit.
    pub demand_per_machine: f64,
    /// Extra share kept above the forecast (0.2 = 20%).
    pub headroom: f64,
    /// Fewest machines kept.
    pub min_machines: u32,
    /// Most machines owned (bought and pending).
    pub max_machines: u32,
}

/// What the planner asks the caller to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlannerAction {
    /// Buy `count` machines; they are ready at `ready_at_ns`.
    Buy {
        /// Machines.
        count: u32,
        /// When they can take pods.
        ready_at_ns: u64,
    },
    /// Bought machines are ready now: add them to the pool.
    Ready {
        /// Machines.
        count: u32,
    },
    /// The forecast no longer needs `count` machines: cordon them, drain
    /// (tombstone their pods), release each once empty.
    Release {
        /// Machines.
        count: u32,
    },
}

/// Buys and releases machines ahead of a forecast, one decision per hour.
///
/// Run loop: at each hour boundary call [`record_hour`](Self::record_hour)
/// with the hour's demand, then [`handle_timeout`](Self::handle_timeout)
/// (due at [`poll_timeout`](Self::poll_timeout)); drain
/// [`poll_action`](Self::poll_action). Report machines actually released
/// with [`released`](Self::released).
#[derive(Clone, Debug)]
pub struct MachinePlanner {
    cfg: PlannerConfig,
    forecaster: Forecaster,
    owned: u32,
    pending: VecDeque<(u64, u32)>,
    next_tick_ns: u64,
    actions: VecDeque<PlannerAction>,
    lead_hours: u64,
}

impl MachinePlanner {
    /// A planner owning `owned` machines; first decision one hour after
    /// `start_ns`.
    pub fn new(cfg: PlannerConfig, start_ns: u64, owned: u32) -> Result<Self, EdgeError> {
        if cfg.lead_time_ns == 0 || !cfg.lead_time_ns.is_multiple_of(NS_PER_HOUR) || cfg.lead_time_ns > 24 * NS_PER_HOUR {
            return Err(invalid("planner", "lead_time_ns", "1 to 24 whole hours", cfg.lead_time_ns));
        }
        if !(cfg.demand_per_machine.is_finite() && cfg.demand_per_machine > 0.0) {
            return Err(invalid("planner", "demand_per_machine", "> 0", cfg.demand_per_machine));
        }
        if !(cfg.headroom.is_finite() && cfg.headroom >= 0.0) {
            return Err(invalid("planner", "headroom", ">= 0", cfg.headroom));
        }
        if cfg.min_machines > cfg.max_machines {
            return Err(invalid("planner", "min_machines", "at most max_machines", cfg.min_machines));
        }
        Ok(MachinePlanner {
            cfg,
            forecaster: Forecaster::new(),
            owned,
            pending: VecDeque::new(),
            next_tick_ns: start_ns + NS_PER_HOUR,
            actions: VecDeque::new(),
            lead_hours: cfg.lead_time_ns / NS_PER_HOUR,
        })
    }

    /// Appends an hour's demand to the history.
    pub fn record_hour(&mut self, demand: f64) {
        self.forecaster.record_hour(demand);
    }

    /// Machines owned and ready.
    pub fn owned(&self) -> u32 {
        self.owned
    }

    /// Machines bought, not yet ready.
    pub fn pending(&self) -> u32 {
        self.pending.iter().map(|&(_, c)| c).sum()
    }

    /// The caller released `count` machines (after a `Release`).
    pub fn released(&mut self, count: u32) {
        self.owned = self.owned.saturating_sub(count);
    }

    /// The next time there is work: a purchase arriving or the hourly
    /// decision.
    pub fn poll_timeout(&self) -> Option<u64> {
        Some(self.pending.front().map_or(self.next_tick_ns, |&(t, _)| t.min(self.next_tick_ns)))
    }

    /// The next action.
    pub fn poll_action(&mut self) -> Option<PlannerAction> {
        self.actions.pop_front()
    }

    fn push(&mut self, a: PlannerAction) {
        if self.actions.len() < MAX_OUTPUTS {
            self.actions.push_back(a);
        }
    }

    /// Machines wanted for a forecast demand.
    pub fn machines_for(&self, demand: f64) -> u32 {
        let m = (demand * (1.0 + self.cfg.headroom) / self.cfg.demand_per_machine).ceil();
        (m.min(u32::MAX as f64) as u32).clamp(self.cfg.min_machines, self.cfg.max_machines)
    }

    /// Delivers purchases due and makes the hourly decisions due.
    pub fn handle_timeout(&mut self, now_ns: u64) {
        while let Some(&(t, c)) = self.pending.front() {
            if t > now_ns {
                break;
            }
            self.pending.pop_front();
            self.owned += c;
            self.push(PlannerAction::Ready { count: c });
        }
        while self.next_tick_ns <= now_ns {
            let at = self.next_tick_ns;
            self.next_tick_ns += NS_PER_HOUR;
            let Ok(Some(f)) = self.forecaster.forecast(self.lead_hours) else { continue };
            let want = self.machines_for(f);
            let have = self.owned + self.pending();
            if want > have {
                let ready_at_ns = at + self.cfg.lead_time_ns;
                self.pending.push_back((ready_at_ns, want - have));
                self.push(PlannerAction::Buy { count: want - have, ready_at_ns });
            } else if want < self.owned && self.pending.is_empty() {
                // Only surplus over both the forecast and the present is
                // returned: the current hour must still be served.
                let now_want = self.forecaster.hours.back().map_or(want, |&d| self.machines_for(d));
                let keep = want.max(now_want);
                if keep < self.owned {
                    self.push(PlannerAction::Release { count: self.owned - keep });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> AutoscalerConfig {
        let mut targets = [None; NUM_METRICS];
        targets[Metric::Bandwidth as usize] = Some(100.0);
        targets[Metric::Cpu as usize] = Some(500.0);
        AutoscalerConfig { targets, sync_period_ns: 15, tolerance: 0.1, scale_in_window_ns: 300, min_pods: 1, max_pods: 100 }
    }

    fn totals(bw: f64, cpu: f64) -> [f64; NUM_METRICS] {
        let mut t = [0.0; NUM_METRICS];
        t[Metric::Bandwidth as usize] = bw;
        t[Metric::Cpu as usize] = cpu;
        t
    }

    #[test]
    fn largest_ratio_decides() {
        let mut a = Autoscaler::new(cfg(), 0, 4).unwrap();
        // Per pod: bandwidth 150 (ratio 1.5), CPU 250 (0.5): 4 * 1.5 = 6.
        a.observe(totals(600.0, 1000.0));
        a.handle_timeout(15);
        let d = a.poll_decision().unwrap();
        assert_eq!((d.from, d.to, d.deciding.unwrap().0), (4, 6, Metric::Bandwidth));
        // Within tolerance: 6 pods at ratio 1.05.
        a.observe(totals(630.0, 0.0));
        a.handle_timeout(30);
        assert_eq!(a.poll_decision(), None);
    }

    #[test]
    fn scale_in_waits_for_the_window() {
        let mut a = Autoscaler::new(cfg(), 0, 10).unwrap();
        a.observe(totals(1000.0, 0.0));
        a.handle_timeout(15);
        assert_eq!(a.poll_decision(), None);
        a.observe(totals(200.0, 0.0)); // wants 2
        a.handle_timeout(300);
        // The recommendation of 10 at t = 15 is still within 300 ns.
        assert_eq!(a.poll_decision(), None);
        a.handle_timeout(330);
        let d = a.poll_decision().unwrap();
        assert_eq!((d.at_ns, d.to), (330, 2));
    }

    #[test]
    fn forecast_same_hour_plus_trend() {
        let mut f = Forecaster::new();
        for h in 0..24 {
            f.record_hour(h as f64);
        }
        assert_eq!(f.forecast(1).unwrap(), None);
        f.record_hour(2.0); // hour 24: yesterday 0, trend +2
        // Hour 25 ahead by 1: yesterday's hour 1 (1.0) + 2.
        assert_eq!(f.forecast(1).unwrap(), Some(3.0));
        assert_eq!(f.forecast(24).unwrap(), Some(4.0));
        assert!(f.forecast(25).is_err());
    }

    #[test]
    fn planner_buys_ahead_and_releases() {
        let pc = PlannerConfig { lead_time_ns: 2 * NS_PER_HOUR, demand_per_machine: 10.0, headroom: 0.0, min_machines: 1, max_machines: 100 };
        let mut p = MachinePlanner::new(pc, 0, 5).unwrap();
        for h in 0..25 {
            // Yesterday flat at 50 until hour 2 peaks at 100; today same.
            p.record_hour(if h % 24 == 2 { 100.0 } else { 50.0 });
        }
        // Next tick at 1 h: forecast for 2 h after the latest hour = hour 2
        // yesterday (100) + trend (50 - 50): 10 machines, 5 more.
        p.handle_timeout(NS_PER_HOUR);
        assert_eq!(p.poll_action(), Some(PlannerAction::Buy { count: 5, ready_at_ns: 3 * NS_PER_HOUR }));
        p.handle_timeout(3 * NS_PER_HOUR - 1);
        assert_eq!(p.owned(), 5);
        p.handle_timeout(3 * NS_PER_HOUR);
        assert_eq!(p.poll_action(), Some(PlannerAction::Ready { count: 5 }));
        assert_eq!(p.poll_action(), None);
        assert_eq!(p.owned(), 10);
        // Hour 25 recorded (50, as yesterday): the 4 h tick forecasts hour
        // 27 = yesterday's hour 3 (50) + 0: 5 machines, 5 to release.
        p.record_hour(50.0);
        p.handle_timeout(4 * NS_PER_HOUR);
        assert_eq!(p.poll_action(), Some(PlannerAction::Release { count: 5 }));
        p.released(5);
        assert_eq!(p.owned(), 5);
        assert!(MachinePlanner::new(PlannerConfig { lead_time_ns: 25 * NS_PER_HOUR, ..pc }, 0, 1).is_err());
    }
}
