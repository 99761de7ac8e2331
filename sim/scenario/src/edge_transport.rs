//! Resolving `[edge.transport]` and `[[edge.transport_faults]]`: the
//! transport network between regions that the edge model's cascade legs
//! cross (README, "Transport network"). Links come from a bundled topology
//! (`topologies/<name>.toml`, the backbone format: its provinces are
//! regions, its backbone links transport links) and from the file; faults
//! name a link by its two regions or a shared-risk group (a cable).

use std::collections::{BTreeMap, BTreeSet};

use crate::backbone::Loaded;
use crate::ctx::Ctx;
use crate::error::ScenarioError;
use crate::model::*;
use crate::raw::*;
use crate::spanned::Spanned;

/// Bound on transport links (the routing crate's).
const MAX_LINKS: usize = cdnsim_routing::transport::MAX_TRANSPORT_LINKS;
/// Bound on transport faults.
const MAX_FAULTS: usize = 4096;

type Names<'a> = BTreeMap<&'a str, usize>;

/// The topology `[edge.transport]` names, loaded (its provinces become
/// regions before the rest of `[edge]` is resolved).
pub(crate) fn topology(ctx: &Ctx, e: &RawEdge) -> Result<Option<Loaded>, ScenarioError> {
    let Some(t) = e.transport.as_ref().map(|t| t.get_ref()) else { return Ok(None) };
    match (&t.topology, &t.synthetic) {
        (None, None) => Ok(None),
        (Some(name), None) => crate::backbone::load(ctx, name, "edge.transport.topology").map(Some),
        (Some(_), Some(s)) => Err(ctx.err(s.span(), "edge.transport.synthetic", "expected `topology` (a bundled network) or `synthetic` (a generated one), not both")),
        (None, Some(s)) => {
            let (regions, seed) = synthetic_params(ctx, s.get_ref())?;
            let params = cdnsim_net::backbone::GlobalSynthParams { regions: regions as usize, ..Default::default() };
            let net = cdnsim_net::backbone::synthetic_global(&params, seed)
                .map_err(|e| ctx.err(s.span(), "edge.transport.synthetic", format!("the generator refused it: {e}")))?;
            // Through the topology parser, as the bundled file would be.
            let label = format!("{} (edge.transport.synthetic, regions = {regions}, seed = {seed})", ctx.file);
            let data = crate::topology::parse_topology(&label, &net.to_toml())?;
            crate::backbone::from_data(ctx, data, s.span(), "edge.transport.synthetic").map(Some)
        }
    }
}

/// The generated network's (regions, seed), checked.
fn synthetic_params(ctx: &Ctx, s: &RawSyntheticTransport) -> Result<(u32, u64), ScenarioError> {
    let max = cdnsim_net::backbone::synth_global::MAX_GLOBAL_REGIONS as i64;
    let r = *s.regions.get_ref();
    if !(6..=max).contains(&r) {
        return Err(ctx.err(s.regions.span(), "edge.transport.synthetic.regions", format!("expected 6 to {max} regions (at least one per continent), found {r}")));
    }
    let seed = *s.seed.get_ref();
    if seed < 0 {
        return Err(ctx.err(s.seed.span(), "edge.transport.synthetic.seed", format!("expected a seed of 0 or more, found {seed}")));
    }
    Ok((r as u32, seed as u64))
}

/// Mean loss of a link loss model (Gilbert-Elliott: its stationary mean).
fn mean_loss(l: &LinkLoss) -> f64 {
    match *l {
        LinkLoss::Bernoulli { p } => p,
        LinkLoss::GilbertElliott { p_good_to_bad, p_bad_to_good, loss_good, loss_bad } => {
            let bad = p_good_to_bad / (p_good_to_bad + p_bad_to_good);
            bad * loss_bad + (1.0 - bad) * loss_good
        }
    }
}

fn latency_ns(regions: &[Region], a: usize, b: usize, inflation: f64, km_per_ms: f64, min_ns: u64) -> u64 {
    let (ra, rb) = (&regions[a], &regions[b]);
    let km = cdnsim_net::geo::great_circle_km(ra.lat_deg, ra.lon_deg, rb.lat_deg, rb.lon_deg);
    cdnsim_net::geo::propagation(km, inflation, km_per_ms).as_ns().max(min_ns)
}

/// Resolves the section and its faults; `regions` already hold the
/// topology's provinces.
pub(crate) fn resolve(
    ctx: &Ctx,
    e: &RawEdge,
    topo: Option<&Loaded>,
    region_names: &Names,
    regions: &[Region],
    network: &Network,
    duration_ns: u64,
) -> Result<(Option<EdgeTransport>, Vec<EdgeTransportFault>), ScenarioError> {
    let Some(raw) = e.transport.as_ref() else {
        if let Some(f) = e.transport_faults.first() {
            return Err(ctx.err(f.span(), "edge.transport_faults[0]", "expected an [edge.transport] section for transport faults, found none"));
        }
        return Ok((None, Vec::new()));
    };
    let span = raw.span();
    let t = raw.get_ref();
    let dur = |v: &Option<Spanned<crate::units::DurationNs>>, field: &str, default: u64| match v {
        None => Ok(default),
        Some(v) => ctx.nonzero(v, field, |d| d.0),
    };
    let probe_interval_ns = dur(&t.probe_interval, "edge.transport.probe_interval", 1_000_000_000)?;
    let missed_probes = match &t.missed_probes {
        None => 3,
        Some(v) => {
            let n = *v.get_ref();
            if !(1..=100).contains(&n) {
                return Err(ctx.err(v.span(), "edge.transport.missed_probes", format!("expected a count from 1 to 100, found {n}")));
            }
            n as u32
        }
    };
    let default_jitter_ns = match &t.jitter {
        None => 1_000_000,
        Some(v) => v.get_ref().0,
    };
    let switch_margin = match &t.switch_margin {
        None => 3.0,
        Some(v) => {
            let x = *v.get_ref();
            if !(x.is_finite() && (0.0..=100.0).contains(&x)) {
                return Err(ctx.err(v.span(), "edge.transport.switch_margin", format!("expected score points in [0, 100], found {x}")));
            }
            x
        }
    };

    // Links: the topology's, then the file's.
    let mut links: Vec<EdgeTransportLink> = Vec::new();
    let mut pairs: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    if let Some(l) = topo {
        let d = &l.data;
        for bl in &d.links {
            let by_name = |pop: usize| region_names[d.provinces[d.pops[pop].province].name.as_str()];
            let (a, b) = (by_name(bl.a), by_name(bl.b));
            let latency_ns = bl.latency_ns.unwrap_or_else(|| latency_ns(regions, a, b, bl.route_inflation, d.propagation_km_per_ms, d.min_latency_ns));
            let name = format!("{}-{}", regions[a].name, regions[b].name);
            if pairs.insert((a.min(b), a.max(b)), links.len()).is_some() {
                return Err(ctx.err(
                    t.topology.as_ref().map_or(span.clone(), |v| v.span()),
                    "edge.transport.topology",
                    format!("expected one transport link per pair of regions, found a second {name} (links of several ISPs join the same regions)"),
                ));
            }
            links.push(EdgeTransportLink { name, a, b, latency_ns, loss: mean_loss(&bl.loss), jitter_ns: default_jitter_ns, submarine: bl.submarine, groups: bl.groups.clone() });
        }
    }
    for (i, l) in t.links.iter().enumerate() {
        let l = l.get_ref();
        let f = |x: &str| format!("edge.transport.links[{i}].{x}");
        let a = ctx.lookup(region_names, "a region", &l.from, f("from"))?;
        let b = ctx.lookup(region_names, "a region", &l.to, f("to"))?;
        if a == b {
            return Err(ctx.err(l.to.span(), f("to"), "expected a region other than `from`, found the same"));
        }
        let name = format!("{}-{}", regions[a].name, regions[b].name);
        if let Some(&first) = pairs.get(&(a.min(b), a.max(b))) {
            return Err(ctx.err(l.from.span(), f("from"), format!("expected one transport link per pair of regions, found a second {name} (first: {})", links[first].name)));
        }
        if links.len() >= MAX_LINKS {
            return Err(ctx.err(l.from.span(), format!("edge.transport.links[{i}]"), format!("expected at most {MAX_LINKS} transport links in all")));
        }
        let loss = match &l.loss {
            None => 0.0,
            Some(v) => ctx.fraction(v, f("loss"))?,
        };
        let latency_ns = match &l.latency {
            Some(v) => ctx.nonzero(v, &f("latency"), |d| d.0)?,
            None => latency_ns(regions, a, b, network.route_inflation, network.propagation_km_per_ms, network.min_latency_ns),
        };
        let submarine = match &l.class {
            None => false,
            Some(c) => ctx.one_of(c, f("class"), crate::topology::LINK_CLASS_NAMES)? == "submarine",
        };
        let mut groups: Vec<String> = l.groups.iter().map(|g| g.get_ref().clone()).collect();
        groups.sort();
        groups.dedup();
        pairs.insert((a.min(b), a.max(b)), links.len());
        links.push(EdgeTransportLink { name, a, b, latency_ns, loss, jitter_ns: l.jitter.as_ref().map_or(default_jitter_ns, |v| v.get_ref().0), submarine, groups });
    }
    if links.is_empty() {
        return Err(ctx.err(span, "edge.transport.links", "expected transport links (from a topology or [[edge.transport.links]]), found none"));
    }

    // The relay rule needs relays that join two regions.
    let relay = t.relay.as_ref().is_none_or(|v| *v.get_ref());
    let relays = match &t.relays {
        None => None,
        Some(list) => {
            let mut out = Vec::with_capacity(list.get_ref().len());
            for (i, r) in list.get_ref().iter().enumerate() {
                out.push(ctx.lookup(region_names, "a region", r, format!("edge.transport.relays[{i}]"))?);
            }
            out.sort();
            out.dedup();
            Some(out)
        }
    };
    if relay {
        let at = t.relays.as_ref().map(|v| (v.span(), "edge.transport.relays")).or(t.relay.as_ref().map(|v| (v.span(), "edge.transport.relay"))).unwrap_or((span.clone(), "edge.transport.relay"));
        let mut nbr: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
        for l in &links {
            nbr.entry(l.a).or_default().insert(l.b);
            nbr.entry(l.b).or_default().insert(l.a);
        }
        let allowed = |r: usize| relays.as_ref().is_none_or(|v| v.binary_search(&r).is_ok());
        // A relay candidate exists when some allowed region has links to two others.
        let any = nbr.iter().any(|(&r, n)| allowed(r) && n.len() >= 2);
        if relays.as_ref().is_some_and(|v| v.is_empty()) || !any {
            return Err(ctx.err(at.0, at.1, "expected candidate relays for the relay rule (a region allowed to relay with transport links to two others), found none; set relay = false to route direct links only"));
        }
    }

    // Detection must not fire on a healthy link: d x P above every RTT.
    let detect_ns = probe_interval_ns.saturating_mul(missed_probes as u64);
    if let Some(l) = links.iter().max_by_key(|l| l.latency_ns) {
        if detect_ns <= 2 * l.latency_ns {
            let at = t.missed_probes.as_ref().map(|v| v.span()).or(t.probe_interval.as_ref().map(|v| v.span())).unwrap_or(span.clone());
            return Err(ctx.err(at, "edge.transport.missed_probes", format!("expected missed_probes x probe_interval ({detect_ns} ns) above the longest round trip ({} ns, {})", 2 * l.latency_ns, l.name)));
        }
    }
    let transport = EdgeTransport {
        topology: t.topology.as_ref().map(|v| v.get_ref().clone()),
        synthetic: t.synthetic.as_ref().map(|s| {
            let (r, seed) = (*s.get_ref().regions.get_ref(), *s.get_ref().seed.get_ref());
            EdgeTransportSynthetic { regions: r as u32, seed: seed as u64 }
        }),
        probe_interval_ns,
        missed_probes,
        loss_timeout_ns: dur(&t.loss_timeout, "edge.transport.loss_timeout", 2_000_000_000)?,
        relay,
        relays,
        switch_margin,
        min_dwell_ns: t.min_dwell.as_ref().map_or(30_000_000_000, |v| v.get_ref().0),
        half_life_ns: dur(&t.half_life, "edge.transport.half_life", 10_000_000_000)?,
        loss_half_life_ns: dur(&t.loss_half_life, "edge.transport.loss_half_life", 60_000_000_000)?,
        probe_bytes: t.probe_size.as_ref().map_or(64, |v| v.get_ref().0),
        links,
    };

    // Faults.
    if e.transport_faults.len() > MAX_FAULTS {
        return Err(ctx.err(e.transport_faults[MAX_FAULTS].span(), "edge.transport_faults", format!("expected at most {MAX_FAULTS} transport faults")));
    }
    let mut faults = Vec::with_capacity(e.transport_faults.len());
    for (i, f) in e.transport_faults.iter().enumerate() {
        let fspan = f.span();
        let f = f.get_ref();
        let field = |x: &str| format!("edge.transport_faults[{i}].{x}");
        let outage = ctx.one_of(&f.kind, field("kind"), FAULT_KIND_NAMES)? == "outage";
        let (label, fl) = match (&f.from, &f.to, &f.group) {
            (Some(from), Some(to), None) => {
                let a = ctx.lookup(region_names, "a region", from, field("from"))?;
                let b = ctx.lookup(region_names, "a region", to, field("to"))?;
                let Some(&l) = pairs.get(&(a.min(b), a.max(b))) else {
                    let theirs: Vec<&str> = transport.links.iter().filter(|l| l.a == a || l.b == a).map(|l| l.name.as_str()).collect();
                    return Err(ctx.err(to.span(), field("to"), format!(
                        "expected a region with a transport link to {:?} ({}), found {:?}: no link {}-{}",
                        from.get_ref(), if theirs.is_empty() { "it has none".to_string() } else { theirs.join(", ") }, to.get_ref(), from.get_ref(), to.get_ref()
                    )));
                };
                (transport.links[l].name.clone(), vec![l])
            }
            (None, None, Some(g)) => {
                let ls: Vec<usize> = (0..transport.links.len()).filter(|&l| transport.links[l].groups.iter().any(|x| x == g.get_ref())).collect();
                if ls.is_empty() {
                    let known: BTreeSet<&str> = transport.links.iter().flat_map(|l| l.groups.iter().map(String::as_str)).collect();
                    return Err(ctx.err(g.span(), field("group"), format!("expected a group of transport links ({}), found {:?}", known.into_iter().collect::<Vec<_>>().join(", "), g.get_ref())));
                }
                (g.get_ref().clone(), ls)
            }
            _ => return Err(ctx.err(fspan, format!("edge.transport_faults[{i}]"), "expected `from` and `to` (a link) or `group`, not both, not neither")),
        };
        let (a, b) = (f.start.get_ref().0, f.end.get_ref().0);
        if b <= a || b > duration_ns {
            return Err(ctx.err(f.end.span(), field("end"), format!("expected an end after the start ({a} ns) and at most the run's duration ({duration_ns} ns), found {b} ns")));
        }
        let extra_loss = match &f.extra_loss {
            None => 0.0,
            Some(v) if outage => return Err(ctx.err(v.span(), field("extra_loss"), "expected no extra_loss for an outage (nothing passes)")),
            Some(v) => ctx.fraction(v, field("extra_loss"))?,
        };
        let extra_latency_ns = match &f.extra_latency {
            None => 0,
            Some(v) if outage => return Err(ctx.err(v.span(), field("extra_latency"), "expected no extra_latency for an outage (nothing passes)")),
            Some(v) => v.get_ref().0,
        };
        if !outage && extra_loss == 0.0 && extra_latency_ns == 0 {
            return Err(ctx.err(f.kind.span(), field("kind"), "expected extra_loss or extra_latency for a degradation, found neither"));
        }
        faults.push(EdgeTransportFault { label, links: fl, outage, extra_loss, extra_latency_ns, start_ns: a, end_ns: b });
    }
    Ok((Some(transport), faults))
}
