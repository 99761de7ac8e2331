//! Resolving `[edge]`: the edge-container RTC cloud. A scenario with this
//! section models that system alone, so the CDN's sections are refused
//! and its resolved fields get neutral values nothing reads. Checks that
//! need the whole section (N-k redundancy against the peak demand, a
//! planner's forecast against the run's length) are made here, once, so a
//! scenario the world accepts is one the edge crate accepts.

use std::collections::BTreeMap;
use std::ops::Range;

use crate::ctx::Ctx;
use crate::error::ScenarioError;
use crate::model::*;
use crate::raw::*;
use crate::spanned::Spanned;

/// Bounds that keep a run's memory and ids in range.
pub const MAX_EDGE_ROOMS: u64 = 100_000;
pub const MAX_EDGE_MACHINES: u64 = 10_000_000;
pub const MAX_EDGE_SERVICES: usize = 64;
/// Events of the crate's workload module: flash crowds per scenario.
const MAX_FLASH_CROWDS: usize = 256;
const NS_PER_HOUR: u64 = 3_600_000_000_000;

type Names<'a> = BTreeMap<&'a str, usize>;

impl DurationSpec {
    /// The mean, ns: closed forms (Weibull through the gamma function,
    /// empirical by its piecewise-linear CDF).
    pub fn mean_ns(&self) -> f64 {
        match self {
            DurationSpec::Fixed { ns } => *ns as f64,
            DurationSpec::Exponential { mean_ns } => *mean_ns as f64,
            DurationSpec::Lognormal { median_ns, sigma } => *median_ns as f64 * cdnsim_maths::exp(sigma * sigma / 2.0),
            DurationSpec::Weibull { shape, scale_ns } => *scale_ns as f64 * cdnsim_maths::gamma(1.0 + 1.0 / shape),
            DurationSpec::Empirical { points } => {
                let (mut sum, mut prev) = (0.0, (0.0, points[0].1 as f64));
                for &(p, ns) in points {
                    sum += (p - prev.0) * 0.5 * (prev.1 + ns as f64);
                    prev = (p, ns as f64);
                }
                sum
            }
        }
    }
}

impl EdgeService {
    /// An upper bound on the mean time a session of this service holds a
    /// slot: with streams of their own length, the publishers' mean and
    /// the subscribers' own (a stream's end can only shorten a view).
    pub fn mean_session_ns(&self) -> f64 {
        match &self.streams {
            Some(EdgeStreams { publisher_share: p, publisher_length: Some(d), .. }) => {
                p * d.mean_ns() + (1.0 - p) * self.session_length.mean_ns()
            }
            _ => self.session_length.mean_ns(),
        }
    }
}

impl Edge {
    /// Each region's peak demand by Little's law: the largest hourly rate
    /// times the region's largest flash boost ([`Edge::peak_boost`]),
    /// times each service's share and mean session length, in pods
    /// (ceil(sessions / max_sessions_per_pod)), times each pod's request.
    /// What the N-k check uses; the world may reuse it.
    pub fn peak_demand_per_region(&self) -> Vec<EdgeResources> {
        self.regions
            .iter()
            .enumerate()
            .map(|(r, reg)| {
                let peak = reg.hourly_arrivals_per_s.iter().cloned().fold(0.0, f64::max);
                let boost = self.peak_boost(r);
                let mut d = EdgeResources::default();
                for s in &self.services {
                    let sessions = peak * boost * s.share * s.mean_session_ns() / 1e9;
                    let pods = (sessions / s.max_sessions_per_pod as f64).ceil().min(1e15) as u64;
                    // Saturating: a demand beyond u64 fails any check anyway.
                    d.cpu_millis = d.cpu_millis.saturating_add(pods.saturating_mul(s.pod.cpu_millis));
                    d.memory_bytes = d.memory_bytes.saturating_add(pods.saturating_mul(s.pod.memory_bytes));
                    d.bandwidth_bps = d.bandwidth_bps.saturating_add(pods.saturating_mul(s.pod.bandwidth_bps));
                    d.pps = d.pps.saturating_add(pods.saturating_mul(s.pod.pps));
                    d.host_ports = d.host_ports.saturating_add(pods.saturating_mul(s.pod.host_ports));
                }
                d
            })
            .collect()
    }
}

impl Edge {
    /// The largest factor region `region`'s rate is ever multiplied by:
    /// overlapping crowds multiply (the edge crate's workload), so this is
    /// the largest product over the crowds active at one instant. That
    /// product only changes at a crowd's start, so the starts are the only
    /// instants to try. A decline (multiplier below 1) counts as 1, so the
    /// bound never falls below the plain daily peak. Not the product of
    /// every crowd: two crowds hours apart do not add up.
    pub fn peak_boost(&self, region: usize) -> f64 {
        let crowds: Vec<&EdgeFlashCrowd> = self.flash_crowds.iter().filter(|f| f.region == region).collect();
        crowds
            .iter()
            .map(|c| {
                crowds.iter().filter(|f| f.start_ns <= c.start_ns && c.start_ns < f.end_ns).map(|f| f.multiplier.max(1.0)).product::<f64>()
            })
            .fold(1.0, f64::max)
    }
}

/// Neutral values of the CDN's sections in an edge scenario.
pub(crate) fn neutral_stream() -> Stream {
    Stream { name: String::new(), bitrate_bps: 1, block_ns: 1_000_000_000, chunk_bytes: 1 }
}

pub(crate) fn neutral_viewers() -> Viewers {
    Viewers {
        arrivals_per_s: 0.0,
        initial: 0,
        initial_window_ns: 1,
        watch_time: WatchTime::Exponential { mean_ns: 1 },
        playout_delay_ns: 0,
        access_latency_ns: 0,
        access_loss: 0.0,
        regions: Vec::new(),
    }
}

pub(crate) fn neutral_broadcasters() -> Broadcasters {
    Broadcasters { count: 0, zipf: 0.0, local_viewers: 0.0, regions: Vec::new(), ingest: None, uplink_bps: 0, access_latency_ns: 0 }
}

/// The CDN sections an edge scenario may not have: (present, its span, its name).
pub(crate) fn refuse_cdn_sections(ctx: &Ctx, raw: &RawScenario, edge_span: Range<usize>) -> Result<(), ScenarioError> {
    let mut found = raw.cdn_sections().into_iter().filter_map(|(name, span)| span.map(|s| (s, name)));
    if let Some((span, name)) = found.next() {
        return Err(ctx.err(
            span,
            name,
            format!("expected no [{name}] in an [edge] scenario (it models the RTC cloud; [{name}] belongs to the live-video CDN)"),
        ));
    }
    // At the first entry's first value: the list's own place in the file.
    let lists = [
        (raw.nodes.first().map(|n| n.name.span()), "nodes"),
        (raw.links.first().map(|l| l.from.span()), "links"),
        (raw.faults.first().map(|f| f.group.span()), "faults"),
    ];
    if let Some((span, name)) = lists.iter().find(|(span, _)| span.is_some()) {
        return Err(ctx.err(
            span.clone().unwrap_or(edge_span),
            format!("{name}[0]"),
            format!("expected no [[{name}]] in an [edge] scenario (it models the RTC cloud; use [[edge.room_outages]] for faults)"),
        ));
    }
    Ok(())
}

fn count(ctx: &Ctx, v: &Spanned<i64>, field: &str, range: std::ops::RangeInclusive<i64>) -> Result<u64, ScenarioError> {
    let x = *v.get_ref();
    if !range.contains(&x) {
        return Err(ctx.err(v.span(), field, format!("expected a whole number from {} to {}, found {x}", range.start(), range.end())));
    }
    Ok(x as u64)
}

fn opt_count(ctx: &Ctx, v: &Option<Spanned<i64>>, field: &str, range: std::ops::RangeInclusive<i64>, default: u64) -> Result<u64, ScenarioError> {
    match v {
        None => Ok(default),
        Some(v) => count(ctx, v, field, range),
    }
}

fn streams_target(ctx: &Ctx, v: Option<&Spanned<f64>>, field: &str) -> Result<Option<f64>, ScenarioError> {
    match v {
        None => Ok(None),
        Some(v) if v.get_ref().is_finite() && *v.get_ref() > 0.0 && *v.get_ref() <= 1e9 => Ok(Some(*v.get_ref())),
        Some(v) => Err(ctx.err(v.span(), field, format!("expected a count of streams per pod above 0, found {}", v.get_ref()))),
    }
}

fn share(ctx: &Ctx, v: &Spanned<f64>, field: &str, low_open: bool) -> Result<f64, ScenarioError> {
    let x = *v.get_ref();
    let ok = x.is_finite() && x <= 1.0 && if low_open { x > 0.0 } else { x >= 0.0 };
    if !ok {
        let range = if low_open { "(0, 1]" } else { "[0, 1]" };
        return Err(ctx.err(v.span(), field, format!("expected a share in {range}, found {x}")));
    }
    Ok(x)
}

fn nonneg(ctx: &Ctx, v: &Option<Spanned<f64>>, field: &str, default: f64) -> Result<f64, ScenarioError> {
    match v {
        None => Ok(default),
        Some(v) if v.get_ref().is_finite() && *v.get_ref() >= 0.0 => Ok(*v.get_ref()),
        Some(v) => Err(ctx.err(v.span(), field, format!("expected a finite number at least 0, found {}", v.get_ref()))),
    }
}

fn positive_ns(ctx: &Ctx, v: &Option<Spanned<crate::units::DurationNs>>, field: &str, default: u64) -> Result<u64, ScenarioError> {
    match v {
        None => Ok(default),
        Some(v) => ctx.nonzero(v, field, |d| d.0),
    }
}

fn resources(ctx: &Ctx, r: &Spanned<RawResources>, field: &str, machine: bool) -> Result<EdgeResources, ScenarioError> {
    let x = r.get_ref();
    let cpu = *x.cpu.get_ref();
    if !(cpu.is_finite() && cpu > 0.0 && cpu <= 1e6) {
        return Err(ctx.err(x.cpu.span(), format!("{field}.cpu"), format!("expected cores above 0 and at most 1000000, found {cpu}")));
    }
    let cpu_millis = (cpu * 1000.0).round() as u64;
    if cpu_millis == 0 {
        return Err(ctx.err(x.cpu.span(), format!("{field}.cpu"), format!("expected at least 0.001 cores, found {cpu}")));
    }
    let memory_bytes = ctx.nonzero(&x.memory, &format!("{field}.memory"), |b| b.0)?;
    let bandwidth_bps = ctx.nonzero(&x.bandwidth, &format!("{field}.bandwidth"), |b| b.0)?;
    let pps = count(ctx, &x.pps, &format!("{field}.pps"), 1..=1_000_000_000_000)?;
    let host_ports = match (&x.host_ports, machine) {
        (Some(p), true) => count(ctx, p, &format!("{field}.host_ports"), 1..=65_535)?,
        (None, true) => {
            return Err(ctx.err(r.span(), format!("{field}.host_ports"), "expected the machine's host ports (1 to 65535), found none"));
        }
        (p, false) => opt_count(ctx, p, &format!("{field}.host_ports"), 0..=65_535, 0)?,
    };
    Ok(EdgeResources { cpu_millis, memory_bytes, bandwidth_bps, pps, host_ports })
}

fn duration(ctx: &Ctx, d: &Spanned<RawDurationSpec>, field: &str) -> Result<DurationSpec, ScenarioError> {
    let bad = |m: String| ctx.err(d.span(), field, m);
    match d.get_ref() {
        RawDurationSpec::Fixed(ns) if ns.0 > 0 => Ok(DurationSpec::Fixed { ns: ns.0 }),
        RawDurationSpec::Fixed(_) => Err(bad("expected a duration above zero, found 0".into())),
        RawDurationSpec::Dist(t) => {
            let name = crate::ctx::one_of(DURATION_DIST_NAMES, &t.distribution).map_err(|m| bad(format!("distribution: {m}")))?;
            let need_ns = |v: Option<crate::units::DurationNs>, what: &str| match v {
                Some(x) if x.0 > 0 => Ok(x.0),
                Some(_) => Err(bad(format!("{name}: expected {what} above zero, found 0"))),
                None => Err(bad(format!("{name}: expected `{what}`, found none"))),
            };
            let extra = |present: bool, what: &str| if present { Err(bad(format!("{name}: takes no `{what}`"))) } else { Ok(()) };
            match name {
                "exponential" => {
                    extra(t.median.is_some() || t.scale.is_some(), "median or scale")?;
                    extra(t.sigma.is_some() || t.shape.is_some() || t.points.is_some(), "sigma, shape or points")?;
                    Ok(DurationSpec::Exponential { mean_ns: need_ns(t.mean, "mean")? })
                }
                "lognormal" => {
                    extra(t.mean.is_some() || t.scale.is_some() || t.shape.is_some() || t.points.is_some(), "mean, scale, shape or points")?;
                    let sigma = t.sigma.ok_or_else(|| bad("lognormal: expected `sigma`, found none".into()))?;
                    if !(sigma.is_finite() && (0.0..=10.0).contains(&sigma)) {
                        return Err(bad(format!("lognormal: expected sigma from 0 to 10, found {sigma}")));
                    }
                    Ok(DurationSpec::Lognormal { median_ns: need_ns(t.median, "median")?, sigma })
                }
                "weibull" => {
                    extra(t.mean.is_some() || t.median.is_some() || t.sigma.is_some() || t.points.is_some(), "mean, median, sigma or points")?;
                    let shape = t.shape.ok_or_else(|| bad("weibull: expected `shape`, found none".into()))?;
                    if !(shape.is_finite() && (0.05..=100.0).contains(&shape)) {
                        return Err(bad(format!("weibull: expected a shape from 0.05 to 100, found {shape}")));
                    }
                    Ok(DurationSpec::Weibull { shape, scale_ns: need_ns(t.scale, "scale")? })
                }
                "empirical" => {
                    extra(t.mean.is_some() || t.median.is_some() || t.sigma.is_some() || t.shape.is_some() || t.scale.is_some(), "mean, median, sigma, shape or scale")?;
                    let pts = t.points.as_ref().ok_or_else(|| bad("empirical: expected `points`, found none".into()))?;
                    if pts.is_empty() || pts.len() > 4096 {
                        return Err(bad(format!("empirical: expected 1 to 4096 points, found {}", pts.len())));
                    }
                    let mut last = (0.0f64, 0u64);
                    for (i, &(p, ns)) in pts.iter().enumerate() {
                        let ok = p.is_finite() && p <= 1.0 && (p > last.0 || (i == 0 && p >= 0.0)) && ns.0 >= last.1 && ns.0 > 0;
                        if !ok {
                            return Err(bad(format!(
                                "empirical: expected probabilities increasing in (0, 1] and durations above zero, non-decreasing; point {i} is ({p}, {} ns)",
                                ns.0
                            )));
                        }
                        last = (p, ns.0);
                    }
                    if last.0 != 1.0 {
                        return Err(bad(format!("empirical: expected the last point at probability 1, found {}", last.0)));
                    }
                    Ok(DurationSpec::Empirical { points: pts.iter().map(|&(p, d)| (p, d.0)).collect() })
                }
                other => unreachable!("{other:?} is in DURATION_DIST_NAMES but has no distribution"),
            }
        }
    }
}

fn fits(need: &EdgeResources, cap: &EdgeResources) -> Option<&'static str> {
    let pairs = [
        (need.cpu_millis, cap.cpu_millis, "cpu"),
        (need.memory_bytes, cap.memory_bytes, "memory"),
        (need.bandwidth_bps, cap.bandwidth_bps, "bandwidth"),
        (need.pps, cap.pps, "pps"),
        (need.host_ports, cap.host_ports, "host_ports"),
    ];
    pairs.iter().find(|(n, c, _)| n > c).map(|p| p.2)
}

/// Resolves `[edge]`; `regions` are the scenario's `[[regions]]`.
pub(crate) fn resolve(ctx: &Ctx, e: &Spanned<RawEdge>, regions: &Names, duration_ns: u64) -> Result<Edge, ScenarioError> {
    let span = e.span();
    let e = e.get_ref();
    let shared = ctx.one_of(&e.sharing, "edge.sharing", SHARING_NAMES)? == "shared";
    let policy = match ctx.one_of(&e.policy, "edge.policy", POLICY_NAMES)? {
        "spread" => EdgePolicy::Spread,
        "binpack" => EdgePolicy::Binpack,
        _ => EdgePolicy::Hybrid,
    };
    let scale_in = match ctx.one_of(&e.scale_in, "edge.scale_in", SCALE_IN_NAMES)? {
        "tombstone" => EdgeScaleIn::Tombstone { timeout_ns: positive_ns(ctx, &e.tombstone_timeout, "edge.tombstone_timeout", 600_000_000_000)? },
        // A naive scale-in does not drain; a timeout written beside it is
        // checked and unused, so one file can sweep over both.
        _ => {
            positive_ns(ctx, &e.tombstone_timeout, "edge.tombstone_timeout", 1)?;
            EdgeScaleIn::Naive
        }
    };
    let redundancy_rooms = opt_count(ctx, &e.redundancy_rooms, "edge.redundancy_rooms", 0..=1000, 2)? as u32;
    let sample_interval_ns = positive_ns(ctx, &e.sample_interval, "edge.sample_interval", 60_000_000_000)?;
    if sample_interval_ns > duration_ns {
        let s = e.sample_interval.as_ref().map_or(span.clone(), |s| s.span());
        return Err(ctx.err(s, "edge.sample_interval", format!("expected at most the run's duration ({duration_ns} ns), found {sample_interval_ns} ns")));
    }
    let access_latency_ns = e.access_latency.as_ref().map_or(5_000_000, |d| d.get_ref().0);
    let prewarmed_share = match &e.prewarmed_share {
        None => 0.9,
        Some(v) => share(ctx, v, "edge.prewarmed_share", false)?,
    };
    let startup_prewarmed = match &e.startup_prewarmed {
        None => DurationSpec::Fixed { ns: 2_000_000_000 },
        Some(d) => duration(ctx, d, "edge.startup_prewarmed")?,
    };
    let startup_pulled = match &e.startup_pulled {
        None => DurationSpec::Lognormal { median_ns: 20_000_000_000, sigma: 0.5 },
        Some(d) => duration(ctx, d, "edge.startup_pulled")?,
    };
    let machine = resources(ctx, &e.machine, "edge.machine", true)?;

    // Services first: the regions' checks need their pods.
    if e.services.is_empty() {
        return Err(ctx.err(span, "edge.services", "expected at least one [[edge.services]] entry, found none"));
    }
    if e.services.len() > MAX_EDGE_SERVICES {
        return Err(ctx.err(e.services[MAX_EDGE_SERVICES].span(), "edge.services", format!("expected at most {MAX_EDGE_SERVICES} services, found {}", e.services.len())));
    }
    let mut service_names: Names = BTreeMap::new();
    let mut services = Vec::with_capacity(e.services.len());
    let mut total_share = 0.0;
    for (i, s) in e.services.iter().enumerate() {
        let f = |x: &str| format!("edge.services[{i}].{x}");
        let s = s.get_ref();
        let name = s.name.get_ref();
        if name.is_empty() || service_names.insert(name.as_str(), i).is_some() {
            return Err(ctx.err(s.name.span(), f("name"), format!("expected a unique, non-empty service name, found {name:?}")));
        }
        let sh = share(ctx, &s.share, &f("share"), true)?;
        total_share += sh;
        let session = resources(ctx, &s.session, &f("session"), false)?;
        let pod = resources(ctx, &s.pod, &f("pod"), false)?;
        if let Some(r) = fits(&pod, &machine) {
            return Err(ctx.err(s.pod.span(), f("pod"), format!("expected a pod that fits the machine type, found one whose {r} exceeds it")));
        }
        let max_sessions = count(ctx, &s.max_sessions_per_pod, &f("max_sessions_per_pod"), 1..=65_536)? as u32;
        if let Some(r) = fits(&session, &pod) {
            return Err(ctx.err(s.session.span(), f("session"), format!("expected a session that fits its pod, found one whose {r} exceeds the pod's request")));
        }
        let streams = match &s.streams {
            None => None,
            Some(st) => {
                let st = st.get_ref();
                let p = *st.publisher_share.get_ref();
                if !(p.is_finite() && p > 0.0 && p < 1.0) {
                    return Err(ctx.err(st.publisher_share.span(), f("streams.publisher_share"), format!("expected a share in (0, 1), found {p}")));
                }
                let same = match &st.same_region_share {
                    None => 0.8,
                    Some(v) => share(ctx, v, &f("streams.same_region_share"), false)?,
                };
                let relay = match &st.relay {
                    None => EdgeResources { host_ports: 0, ..session },
                    Some(r) => {
                        let x = resources(ctx, r, &f("streams.relay"), false)?;
                        if let Some(d) = fits(&x, &pod) {
                            return Err(ctx.err(r.span(), f("streams.relay"), format!("expected a relay that fits its pod, found one whose {d} exceeds the pod's request")));
                        }
                        x
                    }
                };
                let publisher_length = st.publisher_length.as_ref().map(|d| duration(ctx, d, &f("streams.publisher_length"))).transpose()?;
                Some(EdgeStreams { publisher_share: p, same_region_share: same, relay, publisher_length })
            }
        };
        services.push(EdgeService {
            streams,
            name: name.clone(),
            share: sh,
            session,
            pod,
            max_sessions_per_pod: max_sessions,
            session_length: duration(ctx, &s.session_length, &f("session_length"))?,
            session_bytes_per_s: session.bandwidth_bps / 8,
        });
    }
    if (total_share - 1.0).abs() > 1e-9 {
        return Err(ctx.err(e.services[0].get_ref().share.span(), "edge.services", format!("expected shares summing to 1, found {total_share}")));
    }

    if e.regions.is_empty() {
        return Err(ctx.err(span, "edge.regions", "expected at least one [[edge.regions]] entry, found none"));
    }
    let mut edge_regions: Names = BTreeMap::new();
    let mut out_regions = Vec::with_capacity(e.regions.len());
    let (mut rooms_total, mut machines_total) = (0u64, machine_count(e));
    for (i, r) in e.regions.iter().enumerate() {
        let f = |x: &str| format!("edge.regions[{i}].{x}");
        let r = r.get_ref();
        let region = ctx.lookup(regions, "a region", &r.region, f("region"))?;
        if edge_regions.insert(r.region.get_ref().as_str(), i).is_some() {
            return Err(ctx.err(r.region.span(), f("region"), format!("expected each region once in [[edge.regions]], found {:?} again", r.region.get_ref())));
        }
        let rooms = count(ctx, &r.rooms, &f("rooms"), 1..=MAX_EDGE_ROOMS as i64)?;
        rooms_total += rooms;
        let machines_per_room = count(ctx, &r.machines_per_room, &f("machines_per_room"), 1..=1_000_000).map_err(|_| {
            ctx.err(r.machines_per_room.span(), f("machines_per_room"), format!("expected a pool with machines: 1 to 1000000 per room, found {}", r.machines_per_room.get_ref()))
        })?;
        if !shared {
            // Each service's own pool in every room needs a machine.
            let split = split_by_share(machines_per_room as u32, &services.iter().map(|s| s.share).collect::<Vec<_>>());
            if let Some(k) = split.iter().position(|&n| n == 0) {
                return Err(ctx.err(
                    r.machines_per_room.span(),
                    f("machines_per_room"),
                    format!("expected enough machines for a dedicated pool per service: service {:?} gets 0 of {machines_per_room}", services[k].name),
                ));
            }
        }
        let region_machines = opt_count(ctx, &r.region_machines, &f("region_machines"), 0..=1_000_000, 0)? as u32;
        let utc = match &r.utc_offset_hours {
            None => 0,
            Some(v) if (-12..=14).contains(v.get_ref()) => *v.get_ref(),
            Some(v) => return Err(ctx.err(v.span(), f("utc_offset_hours"), format!("expected hours from -12 to 14, found {}", v.get_ref()))),
        };
        let hourly = r.hourly_arrivals.get_ref();
        let hourly: [f64; 24] = hourly.as_slice().try_into().map_err(|_| {
            ctx.err(r.hourly_arrivals.span(), f("hourly_arrivals"), format!("expected 24 rates (local hours 0 to 23), found {}", hourly.len()))
        })?;
        if let Some(x) = hourly.iter().find(|x| !(x.is_finite() && **x >= 0.0 && **x <= 1e7)) {
            return Err(ctx.err(r.hourly_arrivals.span(), f("hourly_arrivals"), format!("expected arrival rates from 0 to 10000000 per second, found {x}")));
        }
        out_regions.push(EdgeRegion {
            region,
            rooms: rooms as u32,
            machines_per_room: machines_per_room as u32,
            region_machines,
            hourly_arrivals_per_s: hourly,
            utc_offset_ns: utc * NS_PER_HOUR as i64,
        });
    }
    if rooms_total > MAX_EDGE_ROOMS || machines_total > MAX_EDGE_MACHINES {
        return Err(ctx.err(span, "edge.regions", format!("expected at most {MAX_EDGE_ROOMS} rooms and {MAX_EDGE_MACHINES} machines in all, found {rooms_total} and {machines_total}")));
    }
    let c = e.central.get_ref();
    let central = EdgeCentral {
        region: ctx.lookup(regions, "a region", &c.region, "edge.central.region".into())?,
        machines: count(ctx, &c.machines, "edge.central.machines", 0..=1_000_000)? as u32,
    };
    machines_total += central.machines as u64;
    let _ = machines_total;

    let a = e.autoscale.as_ref().map(|a| a.get_ref());
    let target = |v: Option<&Spanned<f64>>, field: &str| -> Result<Option<f64>, ScenarioError> { v.map(|v| share(ctx, v, field, true)).transpose() };
    let t = a.and_then(|a| a.targets.as_ref()).map(|t| t.get_ref());
    let mut autoscale = EdgeAutoscale {
        sync_period_ns: positive_ns(ctx, &a.and_then(|a| a.sync_period.as_ref()).map(|v| Spanned::new(v.span(), *v.get_ref())), "edge.autoscale.sync_period", 15_000_000_000)?,
        tolerance: match a.and_then(|a| a.tolerance.as_ref()) {
            None => 0.1,
            Some(v) if v.get_ref().is_finite() && (0.0..1.0).contains(v.get_ref()) => *v.get_ref(),
            Some(v) => return Err(ctx.err(v.span(), "edge.autoscale.tolerance", format!("expected a tolerance in [0, 1), found {}", v.get_ref()))),
        },
        scale_in_window_ns: a.and_then(|a| a.scale_in_window.as_ref()).map_or(300_000_000_000, |v| v.get_ref().0),
        target_cpu: target(t.and_then(|t| t.cpu.as_ref()), "edge.autoscale.targets.cpu")?,
        target_memory: target(t.and_then(|t| t.memory.as_ref()), "edge.autoscale.targets.memory")?,
        target_bandwidth: target(t.and_then(|t| t.bandwidth.as_ref()), "edge.autoscale.targets.bandwidth")?,
        target_pps: target(t.and_then(|t| t.pps.as_ref()), "edge.autoscale.targets.pps")?,
        target_sessions: target(t.and_then(|t| t.sessions.as_ref()), "edge.autoscale.targets.sessions")?,
        target_push_streams: streams_target(ctx, t.and_then(|t| t.push_streams.as_ref()), "edge.autoscale.targets.push_streams")?,
        target_pull_streams: streams_target(ctx, t.and_then(|t| t.pull_streams.as_ref()), "edge.autoscale.targets.pull_streams")?,
        min_pods: opt_count(ctx, &a.and_then(|a| a.min_pods.as_ref()).map(|v| Spanned::new(v.span(), *v.get_ref())), "edge.autoscale.min_pods", 0..=1_000_000, 1)? as u32,
        max_pods: opt_count(ctx, &a.and_then(|a| a.max_pods.as_ref()).map(|v| Spanned::new(v.span(), *v.get_ref())), "edge.autoscale.max_pods", 1..=1_000_000, 10_000)? as u32,
    };
    if t.is_none() {
        autoscale.target_sessions = Some(0.7);
    } else if [autoscale.target_cpu, autoscale.target_memory, autoscale.target_bandwidth, autoscale.target_pps, autoscale.target_sessions, autoscale.target_push_streams, autoscale.target_pull_streams].iter().all(Option::is_none) {
        let s = a.and_then(|a| a.targets.as_ref()).map_or(span.clone(), |t| t.span());
        return Err(ctx.err(s, "edge.autoscale.targets", "expected at least one target (cpu, memory, bandwidth, pps, sessions, push_streams or pull_streams), found none"));
    }
    if autoscale.min_pods > autoscale.max_pods {
        let s = a.and_then(|a| a.min_pods.as_ref()).map_or(span.clone(), |v| v.span());
        return Err(ctx.err(s, "edge.autoscale.min_pods", format!("expected at most max_pods ({}), found {}", autoscale.max_pods, autoscale.min_pods)));
    }

    let serverless = match &e.serverless {
        None => None,
        Some(s) => {
            let s = s.get_ref();
            Some(EdgeServerless {
                cold_start: match &s.cold_start {
                    None => DurationSpec::Lognormal { median_ns: 1_500_000_000, sigma: 0.5 },
                    Some(d) => duration(ctx, d, "edge.serverless.cold_start")?,
                },
                keep_alive_ns: s.keep_alive.as_ref().map_or(600_000_000_000, |v| v.get_ref().0),
                max_instances: opt_count(ctx, &s.max_instances, "edge.serverless.max_instances", 1..=1_048_576, 10_000)? as u32,
                sessions_per_instance: opt_count(ctx, &s.sessions_per_instance, "edge.serverless.sessions_per_instance", 1..=65_536, 8)? as u32,
            })
        }
    };
    let p = e.prices.as_ref().map(|p| p.get_ref());
    let prices = EdgePrices {
        bandwidth_per_mbps_month: nonneg(ctx, &p.and_then(|p| p.bandwidth_per_mbps_month.as_ref()).map(|v| Spanned::new(v.span(), *v.get_ref())), "edge.prices.bandwidth_per_mbps_month", 2.5)?,
        machine_per_hour: nonneg(ctx, &p.and_then(|p| p.machine_per_hour.as_ref()).map(|v| Spanned::new(v.span(), *v.get_ref())), "edge.prices.machine_per_hour", 0.8)?,
        serverless_per_second: nonneg(ctx, &p.and_then(|p| p.serverless_per_second.as_ref()).map(|v| Spanned::new(v.span(), *v.get_ref())), "edge.prices.serverless_per_second", 0.00005)?,
        serverless_per_gb: nonneg(ctx, &p.and_then(|p| p.serverless_per_gb.as_ref()).map(|v| Spanned::new(v.span(), *v.get_ref())), "edge.prices.serverless_per_gb", 0.08)?,
    };

    let planner = match &e.planner {
        None => None,
        Some(pl) => {
            let pspan = pl.span();
            let pl = pl.get_ref();
            let lead = pl.lead_time.get_ref().0;
            if lead == 0 || !lead.is_multiple_of(NS_PER_HOUR) || lead > 24 * NS_PER_HOUR {
                return Err(ctx.err(pl.lead_time.span(), "edge.planner.lead_time", format!("expected whole hours from 1 h to 24 h, found {lead} ns")));
            }
            // The forecast is the same hour of the day before: it has
            // nothing to say until a day has passed, and then it looks
            // lead_time ahead.
            if duration_ns <= 24 * NS_PER_HOUR + lead {
                return Err(ctx.err(
                    pl.lead_time.span(),
                    "edge.planner.lead_time",
                    format!(
                        "expected a run longer than one day plus the lead time (the forecast is the same hour of the day before, {lead} ns ahead), found a run of {duration_ns} ns"
                    ),
                ));
            }
            let min = opt_count(ctx, &pl.min_machines, "edge.planner.min_machines", 0..=1_000_000, 1)? as u32;
            let max = opt_count(ctx, &pl.max_machines, "edge.planner.max_machines", 1..=1_000_000, 1000)? as u32;
            if min > max {
                return Err(ctx.err(pspan, "edge.planner.min_machines", format!("expected at most max_machines ({max}), found {min}")));
            }
            Some(EdgePlanner { lead_time_ns: lead, headroom: nonneg(ctx, &pl.headroom.as_ref().map(|v| Spanned::new(v.span(), *v.get_ref())), "edge.planner.headroom", 0.2)?, min_machines: min, max_machines: max })
        }
    };

    let window = |start: &Spanned<crate::units::DurationNs>, end: &Spanned<crate::units::DurationNs>, field: String| -> Result<(u64, u64), ScenarioError> {
        let (a, b) = (start.get_ref().0, end.get_ref().0);
        if b <= a || b > duration_ns {
            return Err(ctx.err(end.span(), field, format!("expected an end after the start ({a} ns) and at most the run's duration ({duration_ns} ns), found {b} ns")));
        }
        Ok((a, b))
    };
    if e.flash_crowds.len() > MAX_FLASH_CROWDS {
        return Err(ctx.err(e.flash_crowds[MAX_FLASH_CROWDS].span(), "edge.flash_crowds", format!("expected at most {MAX_FLASH_CROWDS} flash crowds, found {}", e.flash_crowds.len())));
    }
    let mut flash_crowds = Vec::new();
    for (i, f) in e.flash_crowds.iter().enumerate() {
        let f = f.get_ref();
        let region = ctx.lookup(&edge_regions, "an [[edge.regions]] region", &f.region, format!("edge.flash_crowds[{i}].region"))?;
        let (start_ns, end_ns) = window(&f.start, &f.end, format!("edge.flash_crowds[{i}].end"))?;
        let m = *f.multiplier.get_ref();
        if !(m.is_finite() && m > 0.0 && m <= 1e4) {
            return Err(ctx.err(f.multiplier.span(), format!("edge.flash_crowds[{i}].multiplier"), format!("expected a multiplier above 0 and at most 10000, found {m}")));
        }
        flash_crowds.push(EdgeFlashCrowd { region, start_ns, end_ns, multiplier: m });
    }
    let mut room_outages = Vec::new();
    for (i, o) in e.room_outages.iter().enumerate() {
        let o = o.get_ref();
        let region = ctx.lookup(&edge_regions, "an [[edge.regions]] region", &o.region, format!("edge.room_outages[{i}].region"))?;
        let rooms = out_regions[region].rooms as i64;
        let room = count(ctx, &o.room, &format!("edge.room_outages[{i}].room"), 0..=rooms - 1).map_err(|_| {
            ctx.err(o.room.span(), format!("edge.room_outages[{i}].room"), format!("expected a room of {:?} (0 to {}), found {}", o.region.get_ref(), rooms - 1, o.room.get_ref()))
        })? as u32;
        let (start_ns, end_ns) = window(&o.start, &o.end, format!("edge.room_outages[{i}].end"))?;
        room_outages.push(EdgeRoomOutage { region, room, start_ns, end_ns });
    }
    if room_outages.len() > u16::MAX as usize || e.upgrades.len() > u16::MAX as usize {
        return Err(ctx.err(span, "edge", "expected at most 65535 room outages and 65535 upgrades"));
    }
    let mut upgrades = Vec::new();
    for (i, u) in e.upgrades.iter().enumerate() {
        let u = u.get_ref();
        let service = ctx.lookup(&service_names, "a service", &u.service, format!("edge.upgrades[{i}].service"))?;
        let at_ns = u.at.get_ref().0;
        if at_ns >= duration_ns {
            return Err(ctx.err(u.at.span(), format!("edge.upgrades[{i}].at"), format!("expected a time before the run's end ({duration_ns} ns), found {at_ns} ns")));
        }
        let in_place = ctx.one_of(&u.how, format!("edge.upgrades[{i}].how"), UPGRADE_NAMES)? == "in-place";
        upgrades.push(EdgeUpgrade { service, at_ns, in_place });
    }

    let mut control_faults = Vec::new();
    if e.control_faults.len() > u16::MAX as usize {
        return Err(ctx.err(span, "edge.control_faults", "expected at most 65535 control faults"));
    }
    for (i, f) in e.control_faults.iter().enumerate() {
        let f = f.get_ref();
        let field = |x: &str| format!("edge.control_faults[{i}].{x}");
        let kind = ctx.one_of(&f.kind, field("kind"), CONTROL_FAULT_NAMES)?;
        let (start_ns, end_ns) = window(&f.start, &f.end, field("end"))?;
        let link = match (kind, &f.region) {
            ("centre", None) => {
                if let Some(r) = &f.room {
                    return Err(ctx.err(r.span(), field("room"), "expected no room for kind \"centre\" (it takes the whole control plane down)"));
                }
                None
            }
            ("centre", Some(r)) => return Err(ctx.err(r.span(), field("region"), "expected no region for kind \"centre\" (the centre is edge.central's region)")),
            (_, None) => return Err(ctx.err(f.kind.span(), field("region"), "expected a `region` for kind \"link\", found none")),
            (_, Some(r)) => {
                let region = ctx.lookup(&edge_regions, "an [[edge.regions]] region", r, field("region"))?;
                let rooms = out_regions[region].rooms as i64;
                let room = match &f.room {
                    None => None,
                    Some(x) => Some(count(ctx, x, &field("room"), 0..=rooms - 1).map_err(|_| {
                        ctx.err(x.span(), field("room"), format!("expected a room of {:?} (0 to {}), found {}", r.get_ref(), rooms - 1, x.get_ref()))
                    })? as u32),
                };
                Some((region, room))
            }
        };
        control_faults.push(EdgeControlFault { link, start_ns, end_ns });
    }
    let control = match &e.control {
        None if control_faults.is_empty() => None,
        c => {
            let c = c.as_ref().map(|c| c.get_ref());
            let dur = |v: Option<&Spanned<crate::units::DurationNs>>, field: &str, default: u64| match v {
                None => Ok(default),
                Some(v) => ctx.nonzero(v, field, |d| d.0),
            };
            let d = EdgeControl::DEFAULT;
            let lease_period_ns = dur(c.and_then(|c| c.lease_period.as_ref()), "edge.control.lease_period", d.lease_period_ns)?;
            let grace_ns = dur(c.and_then(|c| c.grace.as_ref()), "edge.control.grace", d.grace_ns)?;
            if grace_ns < lease_period_ns {
                let s = c.and_then(|c| c.grace.as_ref()).map_or(span.clone(), |v| v.span());
                return Err(ctx.err(s, "edge.control.grace", format!("expected at least one lease period ({lease_period_ns} ns), found {grace_ns} ns")));
            }
            Some(EdgeControl {
                lease_period_ns,
                grace_ns,
                eviction_timeout_ns: dur(c.and_then(|c| c.eviction_timeout.as_ref()), "edge.control.eviction_timeout", d.eviction_timeout_ns)?,
                pool_delegate: c.and_then(|c| c.pool_delegate.as_ref()).map_or(d.pool_delegate, |v| *v.get_ref()),
                autonomy: c.and_then(|c| c.autonomy.as_ref()).map_or(d.autonomy, |v| *v.get_ref()),
                endpointslice_bytes: c.and_then(|c| c.endpointslice_size.as_ref()).map_or(d.endpointslice_bytes, |v| v.get_ref().0),
                pod_bytes: c.and_then(|c| c.pod_size.as_ref()).map_or(d.pod_bytes, |v| v.get_ref().0),
                watchers_per_node: match c.and_then(|c| c.watchers_per_node.as_ref()) {
                    None => d.watchers_per_node,
                    Some(v) => count(ctx, v, "edge.control.watchers_per_node", 1..=1_000)? as u32,
                },
            })
        }
    };

    let edge = Edge {
        control,
        control_faults,
        transport: None,
        transport_faults: Vec::new(),
        shared,
        policy,
        scale_in,
        machine,
        regions: out_regions,
        central,
        services,
        autoscale,
        startup_prewarmed,
        startup_pulled,
        prewarmed_share,
        serverless,
        prices,
        planner,
        flash_crowds,
        room_outages,
        upgrades,
        redundancy_rooms,
        sample_interval_ns,
        access_latency_ns,
    };

    // N-k: with any k rooms of a region down, the rest (and the region's
    // own pool) must hold the region's peak demand on every resource.
    if redundancy_rooms > 0 {
        let demand = edge.peak_demand_per_region();
        for (i, (reg, d)) in edge.regions.iter().zip(&demand).enumerate() {
            let field = format!("edge.regions[{i}].machines_per_room");
            let at = e.regions[i].get_ref().machines_per_room.span();
            if reg.rooms <= redundancy_rooms {
                return Err(ctx.err(
                    e.regions[i].get_ref().rooms.span(),
                    format!("edge.regions[{i}].rooms"),
                    format!("expected more than {redundancy_rooms} rooms for N-{redundancy_rooms} redundancy (edge.redundancy_rooms), found {}", reg.rooms),
                ));
            }
            let left = (reg.rooms - redundancy_rooms) as u64 * reg.machines_per_room as u64 + reg.region_machines as u64;
            let have = [machine.cpu_millis, machine.memory_bytes, machine.bandwidth_bps, machine.pps, machine.host_ports].map(|x| x as u128 * left as u128);
            let need = [d.cpu_millis, d.memory_bytes, d.bandwidth_bps, d.pps, d.host_ports].map(|x| x as u128);
            for (k, name) in ["cpu (millicores)", "memory (bytes)", "bandwidth (bit/s)", "pps", "host ports"].iter().enumerate() {
                if need[k] > have[k] {
                    return Err(ctx.err(
                        at,
                        field,
                        format!(
                            "expected rooms that hold the region's peak demand with {redundancy_rooms} of them down (N-{redundancy_rooms}): {name} needed {}, {} machines left hold {}",
                            need[k], left, have[k]
                        ),
                    ));
                }
            }
        }
    }
    Ok(edge)
}

fn machine_count(e: &RawEdge) -> u64 {
    e.regions
        .iter()
        .map(|r| {
            let r = r.get_ref();
            (*r.rooms.get_ref()).clamp(0, 1 << 20) as u64 * (*r.machines_per_room.get_ref()).clamp(0, 1 << 20) as u64
                + r.region_machines.as_ref().map_or(0, |m| (*m.get_ref()).clamp(0, 1 << 20) as u64)
        })
        .sum()
}

/// Splits `machines` over the services by share: floors, then the
/// remainder one at a time to the largest fractional parts (ties to the
/// earlier service). The world splits machines with this function.
pub fn split_by_share(machines: u32, shares: &[f64]) -> Vec<u32> {
    let exact: Vec<f64> = shares.iter().map(|s| s * machines as f64).collect();
    let mut out: Vec<u32> = exact.iter().map(|x| x.floor() as u32).collect();
    let mut left = machines.saturating_sub(out.iter().sum::<u32>());
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by(|&a, &b| (exact[b] - exact[b].floor()).total_cmp(&(exact[a] - exact[a].floor())).then(a.cmp(&b)));
    for &i in order.iter().cycle() {
        if left == 0 {
            break;
        }
        out[i] += 1;
        left -= 1;
    }
    out
}

#[cfg(test)]
#[path = "edge_tests.rs"]
mod file_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_demand_is_littles_law_in_pods() {
        // 10 arrivals/s at the peak hour, one flash crowd x2: 20/s; one
        // service of sessions lasting 600 s on average: 12,000 sessions,
        // 32 to a pod: 375 pods of 8 cores = 3,000,000 millicores.
        let svc = EdgeService {
            name: "s".into(),
            share: 1.0,
            session: EdgeResources::default(),
            pod: EdgeResources { cpu_millis: 8000, memory_bytes: 1 << 30, bandwidth_bps: 1, pps: 2, host_ports: 1 },
            max_sessions_per_pod: 32,
            session_length: DurationSpec::Exponential { mean_ns: 600_000_000_000 },
            session_bytes_per_s: 0,
            streams: None,
        };
        let mut hourly = [1.0; 24];
        hourly[20] = 10.0;
        let e = Edge {
            shared: true,
            policy: EdgePolicy::Binpack,
            scale_in: EdgeScaleIn::Naive,
            machine: EdgeResources::default(),
            regions: vec![EdgeRegion { region: 0, rooms: 3, machines_per_room: 1, region_machines: 0, hourly_arrivals_per_s: hourly, utc_offset_ns: 0 }],
            central: EdgeCentral { region: 0, machines: 0 },
            services: vec![svc],
            autoscale: EdgeAutoscale { sync_period_ns: 1, tolerance: 0.1, scale_in_window_ns: 1, target_cpu: None, target_memory: None, target_bandwidth: None, target_pps: None, target_sessions: Some(0.7), target_push_streams: None, target_pull_streams: None, min_pods: 1, max_pods: 1 },
            startup_prewarmed: DurationSpec::Fixed { ns: 1 },
            startup_pulled: DurationSpec::Fixed { ns: 1 },
            prewarmed_share: 1.0,
            serverless: None,
            prices: EdgePrices { bandwidth_per_mbps_month: 0.0, machine_per_hour: 0.0, serverless_per_second: 0.0, serverless_per_gb: 0.0 },
            planner: None,
            flash_crowds: vec![EdgeFlashCrowd { region: 0, start_ns: 0, end_ns: 1, multiplier: 2.0 }],
            room_outages: Vec::new(),
            upgrades: Vec::new(),
            control: None,
            control_faults: Vec::new(),
            transport: None,
            transport_faults: Vec::new(),
            redundancy_rooms: 2,
            sample_interval_ns: 1,
            access_latency_ns: 0,
        };
        let d = e.peak_demand_per_region();
        assert_eq!(d[0].cpu_millis, 375 * 8000);
        assert_eq!(d[0].host_ports, 375);
    }

    #[test]
    fn means_of_the_duration_distributions() {
        let s = 1e9;
        assert_eq!(DurationSpec::Fixed { ns: 5 }.mean_ns(), 5.0);
        // Lognormal: median x exp(sigma^2 / 2).
        let m = DurationSpec::Lognormal { median_ns: 600_000_000_000, sigma: 1.0 }.mean_ns();
        assert!((m / s - 600.0 * 0.5f64.exp()).abs() < 1e-6);
        // Weibull shape 1 is exponential: mean = scale.
        let w = DurationSpec::Weibull { shape: 1.0, scale_ns: 1_000_000_000 }.mean_ns();
        assert!((w - s).abs() < 1e-3);
        // Empirical: uniform on [1 s, 3 s] has mean 2 s.
        let u = DurationSpec::Empirical { points: vec![(0.0, 1_000_000_000), (1.0, 3_000_000_000)] }.mean_ns();
        assert!((u - 2.0 * s).abs() < 1e-3);
    }

    #[test]
    fn a_split_by_share_hands_out_every_machine() {
        assert_eq!(split_by_share(10, &[0.55, 0.3, 0.15]), vec![6, 3, 1]);
        assert_eq!(split_by_share(3, &[0.5, 0.5]), vec![2, 1]);
        assert_eq!(split_by_share(1, &[0.5, 0.5]), vec![1, 0]);
    }
}
