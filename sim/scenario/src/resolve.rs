//! Step two: check the raw file against itself (references, ranges, the
//! tree's shape) and produce the [`Scenario`] the world runs. Every error
//! names the field and points at the value that is wrong.

mod home;

use std::collections::BTreeMap;

use crate::spanned::Spanned;

use crate::ctx::Ctx;
use crate::error::ScenarioError;
use crate::loss::link_loss;
use crate::model::*;
use crate::raw::*;
use crate::units::SizeBytes;

/// Bounds that keep a scenario's memory and event counts sane; a file that
/// needs more is refused with the bound it hit.
pub const MAX_CHUNKS_PER_BLOCK: u64 = 4096;
pub const MAX_RETRANSMITS: i64 = 16;
pub const DEFAULT_MAX_PENDING_EVENTS: usize = 10_000_000;

fn index_names<'a, T>(
    ctx: &Ctx,
    items: &'a [T],
    name: impl Fn(&'a T) -> &'a Spanned<String>,
    list: &str,
) -> Result<BTreeMap<&'a str, usize>, ScenarioError> {
    let mut names = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        let n = name(item);
        if n.get_ref().is_empty() {
            return Err(ctx.err(n.span(), format!("{list}[{i}].name"), "expected a non-empty name"));
        }
        if names.insert(n.get_ref().as_str(), i).is_some() {
            return Err(ctx.err(
                n.span(),
                format!("{list}[{i}].name"),
                format!("expected a unique name, found a second {:?}", n.get_ref()),
            ));
        }
    }
    Ok(names)
}

pub fn resolve(file: &str, text: &str, mut raw: RawScenario) -> Result<Scenario, ScenarioError> {
    let ctx = Ctx { file, text };

    let name = raw.run.name.get_ref();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
        return Err(ctx.err(
            raw.run.name.span(),
            "run.name",
            format!("expected a non-empty name of letters, digits, '-', '_' or '.' (it names a folder), found {name:?}"),
        ));
    }
    let duration_ns = ctx.nonzero(&raw.run.duration, "run.duration", |d| d.0)?;

    let max_pending_events = match &raw.limits.max_pending_events {
        None => DEFAULT_MAX_PENDING_EVENTS,
        Some(v) if *v.get_ref() > 0 => *v.get_ref() as usize,
        Some(v) => {
            return Err(ctx.err(
                v.span(),
                "limits.max_pending_events",
                format!("expected a positive count, found {}", v.get_ref()),
            ));
        }
    };

    let network = Network {
        route_inflation: match &raw.network.route_inflation {
            Some(v) => inflation(&ctx, v, "network.route_inflation".into())?,
            None => 1.5,
        },
        propagation_km_per_ms: match &raw.network.propagation_km_per_ms {
            Some(v) => ctx.positive(v, "network.propagation_km_per_ms".into())?,
            None => 200.0,
        },
        min_latency_ns: raw.network.min_latency.map_or(1_000_000, |d| d.0),
        background: match &raw.network.background {
            None => None,
            Some(b) if raw.network.topology.is_none() => {
                return Err(ctx.err(b.span(), "network.background", "expected network.topology beside it (background load is on the backbone's shared links)"));
            }
            Some(b) => Some(background(&ctx, b.get_ref())?),
        },
    };

    let transport = Transport {
        retransmit_timeout_ns: match &raw.transport.retransmit_timeout {
            Some(v) => ctx.nonzero(v, "transport.retransmit_timeout", |d| d.0)?,
            None => 200_000_000,
        },
        max_retransmits: match &raw.transport.max_retransmits {
            None => 3,
            Some(v) if (0..=MAX_RETRANSMITS).contains(v.get_ref()) => *v.get_ref() as u32,
            Some(v) => {
                return Err(ctx.err(
                    v.span(),
                    "transport.max_retransmits",
                    format!("expected a count from 0 to {MAX_RETRANSMITS}, found {}", v.get_ref()),
                ));
            }
        },
    };

    // An [edge] scenario models the RTC cloud alone: its own sections,
    // the shared ones above and the regions, nothing of the CDN's.
    if let Some(edge) = raw.edge.take() {
        crate::edge::refuse_cdn_sections(&ctx, &raw, edge.span())?;
        // A transport topology's regions join the file's (the file's own
        // coordinates win for a name in both).
        let topo = crate::edge_transport::topology(&ctx, edge.get_ref())?;
        let mut region_names = index_names(&ctx, &raw.regions, |r| &r.name, "regions")?;
        let mut regions = plain_regions(&ctx, &raw)?;
        for p in topo.iter().flat_map(|t| &t.data.provinces) {
            if !region_names.contains_key(p.name.as_str()) {
                region_names.insert(p.name.as_str(), regions.len());
                regions.push(Region { name: p.name.clone(), lat_deg: p.lat_deg, lon_deg: p.lon_deg });
            }
        }
        let routing = routing(&ctx, &raw, &region_names)?;
        let mut edge_model = crate::edge::resolve(&ctx, &edge, &region_names, duration_ns)?;
        let (edge_transport, transport_faults) =
            crate::edge_transport::resolve(&ctx, edge.get_ref(), topo.as_ref(), &region_names, &regions, &network, duration_ns)?;
        edge_model.transport = edge_transport;
        edge_model.transport_faults = transport_faults;
        let edge = edge_model;
        return Ok(Scenario {
            name: name.clone(),
            topology: None,
            description: raw.run.description.clone(),
            seed: raw.run.seed,
            duration_ns,
            max_pending_events,
            network,
            transport,
            regions,
            nodes: Vec::new(),
            links: Vec::new(),
            backbone_links: Vec::new(),
            faults: Vec::new(),
            routing,
            broadcasters: crate::edge::neutral_broadcasters(),
            stream: crate::edge::neutral_stream(),
            viewers: crate::edge::neutral_viewers(),
            home: None,
            last_hop: None,
            edge: Some(edge),
        });
    }
    let Some(raw_stream) = raw.stream.take() else {
        return Err(ctx.err(raw.run.name.span(), "stream", "expected a [stream] table (or an [edge] section for the RTC cloud), found neither"));
    };
    let Some(raw_viewers) = raw.viewers.take() else {
        return Err(ctx.err(raw.run.name.span(), "viewers", "expected a [viewers] table (or an [edge] section for the RTC cloud), found neither"));
    };

    // The backbone, when the scenario names one: its provinces become
    // regions and its IDCs can be nodes.
    let mut backbone = match &raw.network.topology {
        None => None,
        Some(name) => Some(crate::backbone::load(&ctx, name, "network.topology")?),
    };

    // `[overlay]` stands for nodes and links written after the file's own.
    if let Some(o) = raw.overlay.take() {
        let (nodes, links) = crate::backbone::overlay(&ctx, backbone.as_ref(), &o)?;
        raw.nodes.extend(nodes);
        raw.links.extend(links);
    }
    if raw.nodes.is_empty() {
        return Err(ctx.err(raw.run.name.span(), "nodes", "expected [[nodes]] entries or an [overlay], found neither"));
    }

    // Regions.
    let mut region_names = index_names(&ctx, &raw.regions, |r| &r.name, "regions")?;
    let mut regions = plain_regions(&ctx, &raw)?;
    let provinces: Vec<Region> = backbone.iter().flat_map(|b| &b.data.provinces).map(|p| Region {
        name: p.name.clone(),
        lat_deg: p.lat_deg,
        lon_deg: p.lon_deg,
    }).collect();
    for p in &provinces {
        if !region_names.contains_key(p.name.as_str()) {
            region_names.insert(p.name.as_str(), regions.len());
            regions.push(p.clone());
        }
    }

    // Stream (needed to check queues hold at least one chunk).
    let s = raw_stream.get_ref();
    let stream = Stream {
        name: s.name.clone(),
        bitrate_bps: ctx.nonzero(&s.bitrate, "stream.bitrate", |r| r.0)?,
        block_ns: ctx.nonzero(&s.block, "stream.block", |d| d.0)?,
        chunk_bytes: ctx.nonzero(&s.chunk, "stream.chunk", |b| b.0)?,
    };
    if stream.chunks_per_block() > MAX_CHUNKS_PER_BLOCK {
        return Err(ctx.err(
            s.chunk.span(),
            "stream.chunk",
            format!(
                "expected at most {MAX_CHUNKS_PER_BLOCK} chunks per block, found {} ({} B blocks in {} B chunks)",
                stream.chunks_per_block(),
                stream.block_bytes(),
                stream.chunk_bytes
            ),
        ));
    }
    let holds_a_chunk = |q: &Spanned<SizeBytes>, field: String| -> Result<u64, ScenarioError> {
        if q.get_ref().0 < stream.chunk_bytes {
            return Err(ctx.err(
                q.span(),
                field,
                format!("expected a queue of at least one chunk ({} B), found {} B", stream.chunk_bytes, q.get_ref().0),
            ));
        }
        Ok(q.get_ref().0)
    };

    // Nodes and links.
    let node_names = index_names(&ctx, &raw.nodes, |n| &n.name, "nodes")?;
    let mut nodes = Vec::with_capacity(raw.nodes.len());
    for (i, n) in raw.nodes.iter().enumerate() {
        let role = match ctx.one_of(&n.role, format!("nodes[{i}].role"), ROLE_NAMES)? {
            "source" => Role::Source,
            "centre" => Role::Centre,
            "edge" => Role::Edge,
            other => unreachable!("{other:?} is in ROLE_NAMES but has no role"),
        };
        let from_idc = match &n.idc {
            None => None,
            Some(idc) => Some(crate::backbone::idc(&ctx, backbone.as_ref(), idc, format!("nodes[{i}].idc"))?),
        };
        let region = match (&n.region, &from_idc) {
            (Some(r), _) => ctx.lookup(&region_names, "a region", r, format!("nodes[{i}].region"))?,
            (None, Some(d)) => region_names[d.province.as_str()],
            (None, None) => return Err(ctx.err(n.name.span(), format!("nodes[{i}].region"), "expected a region (or an idc of the topology), found none")),
        };
        let egress_bps = match (&n.egress, &from_idc) {
            (Some(e), _) => ctx.nonzero(e, &format!("nodes[{i}].egress"), |r| r.0)?,
            (None, Some(d)) => d.egress_bps,
            (None, None) => return Err(ctx.err(n.name.span(), format!("nodes[{i}].egress"), "expected an egress capacity (or an idc of the topology), found none")),
        };
        let isp = n.isp.clone().or(from_idc.as_ref().map(|d| d.isp.clone())).unwrap_or_default();
        nodes.push(Node {
            name: n.name.get_ref().clone(),
            region,
            isps: match &from_idc {
                Some(d) if n.isp.is_none() => d.isps.clone(),
                _ => vec![isp.clone()],
            },
            isp,
            area: from_idc.as_ref().map_or_else(|| regions[region].name.clone(), |d| d.area.clone()),
            price_per_gb: from_idc.as_ref().map_or(0.0, |d| d.price_per_gb),
            idc: from_idc.as_ref().map(|d| d.name.clone()),
            role,
            parent: None,
            egress_bps,
            egress_queue_bytes: match &n.egress_queue {
                Some(q) => holds_a_chunk(q, format!("nodes[{i}].egress_queue"))?,
                None => default_queue_bytes(egress_bps),
            },
        });
    }

    let mut links = Vec::with_capacity(raw.links.len());
    let mut pairs = BTreeMap::new();
    for (i, l) in raw.links.iter().enumerate() {
        let from = ctx.lookup(&node_names, "a node", &l.from, format!("links[{i}].from"))?;
        let to = ctx.lookup(&node_names, "a node", &l.to, format!("links[{i}].to"))?;
        if from == to {
            return Err(ctx.err(l.to.span(), format!("links[{i}].to"), "expected a node other than `from`, found the same node"));
        }
        if let Some(first) = pairs.insert((from.min(to), from.max(to)), i) {
            return Err(ctx.err(
                l.from.span(),
                format!("links[{i}]"),
                format!("expected one link per pair of nodes, found a second link between these nodes (first: links[{first}])"),
            ));
        }
        // Between two topology IDCs the link rides the backbone path: what
        // the file leaves out comes from it.
        let path = match (&nodes[from].idc, &nodes[to].idc, &mut backbone) {
            (Some(a), Some(b), Some(bb)) => Some(crate::backbone::path(&ctx, bb, a, b, l.from.span(), format!("links[{i}]"))?),
            _ => None,
        };
        let bandwidth_bps = match (&l.bandwidth, &path) {
            (Some(b), _) => ctx.nonzero(b, &format!("links[{i}].bandwidth"), |r| r.0)?,
            (None, Some(p)) => p.capacity_bps,
            (None, None) => return Err(ctx.err(l.from.span(), format!("links[{i}].bandwidth"), "expected a bandwidth (links between two topology IDCs may leave it out), found none")),
        };
        links.push(Link {
            from,
            to,
            bandwidth_bps,
            loss: match (&l.loss, &path) {
                (Some(v), _) => link_loss(v.get_ref()).map_err(|m| ctx.err(v.span(), format!("links[{i}].loss"), m))?,
                (None, Some(p)) => LinkLoss::Bernoulli { p: p.loss },
                (None, None) => LinkLoss::Bernoulli { p: 0.0 },
            },
            queue_bytes: match &l.queue {
                Some(q) => holds_a_chunk(q, format!("links[{i}].queue"))?,
                None => default_queue_bytes(bandwidth_bps).max(stream.chunk_bytes),
            },
            latency_ns: l.latency.as_ref().map(|v| v.get_ref().0).or(path.as_ref().map(|p| p.latency_ns)),
            route_inflation: match &l.route_inflation {
                Some(v) => inflation(&ctx, v, format!("links[{i}].route_inflation"))?,
                None => network.route_inflation,
            },
            interconnect: path.as_ref().map_or(nodes[from].isps != nodes[to].isps, |p| p.interconnect),
            backbone: path.as_ref().map_or_else(Vec::new, |p| p.hops.clone()),
            groups: {
                let mut g: Vec<String> = l.groups.iter().map(|g| g.get_ref().clone()).collect();
                g.extend(path.iter().flat_map(|p| p.groups.iter().cloned()));
                g.sort();
                g.dedup();
                g
            },
        });
    }

    let mut faults = Vec::with_capacity(raw.faults.len());
    for (i, f) in raw.faults.iter().enumerate() {
        let group = f.group.get_ref();
        let members: Vec<usize> = (0..links.len()).filter(|&l| links[l].groups.iter().any(|g| g == group)).collect();
        if members.is_empty() {
            let mut known: Vec<&str> = links.iter().flat_map(|l| l.groups.iter().map(String::as_str)).collect();
            known.sort();
            known.dedup();
            return Err(ctx.err(
                f.group.span(),
                format!("faults[{i}].group"),
                format!("expected a group named in some link's `groups` ({}), found {group:?}", known.join(", ")),
            ));
        }
        let (start_ns, end_ns) = (f.start.get_ref().0, f.end.get_ref().0);
        if end_ns <= start_ns {
            return Err(ctx.err(f.end.span(), format!("faults[{i}].end"), "expected an end after the start"));
        }
        let kind = match ctx.one_of(&f.kind, format!("faults[{i}].kind"), FAULT_KIND_NAMES)? {
            "outage" => {
                for (name, v) in [("extra_loss", f.extra_loss.as_ref().map(|v| v.span())), ("extra_latency", f.extra_latency.as_ref().map(|v| v.span()))] {
                    if let Some(span) = v {
                        return Err(ctx.err(span, format!("faults[{i}].{name}"), "expected nothing here: an outage loses everything; use kind = \"degrade\""));
                    }
                }
                FaultKind::Outage
            }
            "degrade" => {
                let extra_loss = match &f.extra_loss {
                    Some(v) => ctx.fraction(v, format!("faults[{i}].extra_loss"))?,
                    None => 0.0,
                };
                let extra_latency_ns = f.extra_latency.as_ref().map_or(0, |v| v.get_ref().0);
                if extra_loss == 0.0 && extra_latency_ns == 0 {
                    return Err(ctx.err(f.kind.span(), format!("faults[{i}]"), "expected extra_loss or extra_latency for a degradation, found neither"));
                }
                FaultKind::Degrade { extra_loss, extra_latency_ns }
            }
            other => unreachable!("{other:?} is in FAULT_KIND_NAMES but has no fault"),
        };
        faults.push(Fault { group: group.clone(), links: members, kind, start_ns, end_ns });
    }

    let broadcasters = broadcasters(&ctx, &raw, &node_names, &region_names, &nodes)?;
    let routing = routing(&ctx, &raw, &region_names)?;

    // The tree: centre -> source, edge -> centre, each over a link. An
    // edge of an ISP without a regional centre may hang from a (multi-line)
    // source directly.
    for (i, n) in raw.nodes.iter().enumerate() {
        let role = nodes[i].role;
        let wanted = match role {
            Role::Source => None,
            Role::Centre => Some(Role::Source),
            Role::Edge => Some(Role::Centre),
        };
        let field = format!("nodes[{i}].parent");
        match (wanted, &n.parent) {
            (None, None) => {}
            (None, Some(p)) => {
                return Err(ctx.err(p.span(), field, "expected no parent: a source is the root of the tree"));
            }
            (Some(w), None) => {
                return Err(ctx.err(
                    n.name.span(),
                    field,
                    format!("expected a parent ({}) for this {}, found none", w.name(), role.name()),
                ));
            }
            (Some(w), Some(p)) => {
                let parent = ctx.lookup(&node_names, "a node", p, field.clone())?;
                let edge_under_source = role == Role::Edge && nodes[parent].role == Role::Source;
                if nodes[parent].role != w && !edge_under_source {
                    return Err(ctx.err(
                        p.span(),
                        field,
                        format!(
                            "expected a {}{} as the parent of a {}, found the {} {:?}",
                            w.name(),
                            if role == Role::Edge { " (or a source)" } else { "" },
                            role.name(),
                            nodes[parent].role.name(),
                            p.get_ref()
                        ),
                    ));
                }
                if !pairs.contains_key(&(i.min(parent), i.max(parent))) {
                    return Err(ctx.err(
                        p.span(),
                        field,
                        format!("expected a [[links]] entry between {:?} and its parent {:?}, found none", n.name.get_ref(), p.get_ref()),
                    ));
                }
                nodes[i].parent = Some(parent);
            }
        }
    }

    let v = raw_viewers.get_ref();
    let rate = *v.arrivals_per_s.get_ref();
    if !(rate.is_finite() && rate >= 0.0) {
        return Err(ctx.err(
            v.arrivals_per_s.span(),
            "viewers.arrivals_per_s",
            format!("expected a non-negative rate (viewers per second), found {rate}"),
        ));
    }
    let wt = v.watch_time.get_ref();
    let watch_time = match ctx.one_of(&wt.distribution, "viewers.watch_time.distribution", WATCH_TIME_NAMES)? {
        "exponential" => {
            let mean = need(&ctx, &v.watch_time, &wt.mean, "viewers.watch_time.mean")?;
            WatchTime::Exponential { mean_ns: ctx.nonzero(mean, "viewers.watch_time.mean", |d| d.0)? }
        }
        "lognormal" => {
            let median = need(&ctx, &v.watch_time, &wt.median, "viewers.watch_time.median")?;
            let sigma = need(&ctx, &v.watch_time, &wt.sigma, "viewers.watch_time.sigma")?;
            WatchTime::Lognormal {
                median_ns: ctx.nonzero(median, "viewers.watch_time.median", |d| d.0)?,
                sigma: ctx.positive(sigma, "viewers.watch_time.sigma".into())?,
            }
        }
        other => unreachable!("{other:?} is in WATCH_TIME_NAMES but has no distribution"),
    };
    if v.regions.is_empty() {
        return Err(ctx.err(v.arrivals_per_s.span(), "viewers.regions", "expected at least one [[viewers.regions]] entry, found none"));
    }
    let mut viewer_regions = Vec::with_capacity(v.regions.len());
    for (i, r) in v.regions.iter().enumerate() {
        let field = format!("viewers.regions[{i}].region");
        let region = ctx.lookup(&region_names, "a region", &r.region, field.clone())?;
        if !nodes.iter().any(|n| n.role == Role::Edge && n.region == region) {
            return Err(ctx.err(
                r.region.span(),
                field,
                format!("expected a region with an edge node for viewers to attach to, found {:?} with none", r.region.get_ref()),
            ));
        }
        viewer_regions.push((region, ctx.positive(&r.weight, format!("viewers.regions[{i}].weight"))?));
    }
    let initial = match &v.initial {
        None => 0,
        Some(n) if (0..=MAX_INITIAL_VIEWERS).contains(n.get_ref()) => *n.get_ref() as u32,
        Some(n) => return Err(ctx.err(n.span(), "viewers.initial", format!("expected a count from 0 to {MAX_INITIAL_VIEWERS}, found {}", n.get_ref()))),
    };
    let initial_window_ns = match &v.initial_window {
        None => 5_000_000_000u64.min(duration_ns),
        Some(w) if w.get_ref().0 > 0 && w.get_ref().0 <= duration_ns => w.get_ref().0,
        Some(w) => return Err(ctx.err(w.span(), "viewers.initial_window", format!("expected a duration above zero and at most the run's duration, found {} ns", w.get_ref().0))),
    };
    let viewers = Viewers {
        arrivals_per_s: rate,
        initial,
        initial_window_ns,
        watch_time,
        playout_delay_ns: v.playout_delay.get_ref().0,
        access_latency_ns: v.access_latency.map_or(10_000_000, |d| d.0),
        access_loss: match &v.access_loss {
            Some(x) => ctx.fraction(x, "viewers.access_loss".into())?,
            None => 0.0,
        },
        regions: viewer_regions,
    };

    let home = match &raw.home {
        None => None,
        Some(h) => Some(home::resolve(&ctx, h.get_ref(), h.span(), &region_names)?),
    };

    let last_hop = match &raw.last_hop {
        None => None,
        Some(l) if home.is_none() => {
            return Err(ctx.err(l.span(), "last_hop", "expected a [home] section to go with it (the last hop runs on home nodes), found none"));
        }
        Some(l) => Some(last_hop(&ctx, l.get_ref(), &stream, broadcasters.count)?),
    };

    // The shared backbone links queue like the scenario's own links by
    // default: 50 ms at line rate, at least a chunk.
    let backbone_links = backbone.map_or_else(Vec::new, |b| {
        b.shared
            .into_iter()
            .map(|l| BackboneLink { queue_bytes: default_queue_bytes(l.capacity_bps).max(stream.chunk_bytes), ..l })
            .collect()
    });
    Ok(Scenario {
        name: name.clone(),
        topology: raw.network.topology.as_ref().map(|t| t.get_ref().clone()),
        description: raw.run.description.clone(),
        seed: raw.run.seed,
        duration_ns,
        max_pending_events,
        network,
        transport,
        regions,
        nodes,
        links,
        backbone_links,
        faults,
        routing,
        broadcasters,
        stream,
        viewers,
        home,
        last_hop,
        edge: None,
    })
}

/// The file's own `[[regions]]`, coordinates checked.
fn plain_regions(ctx: &Ctx, raw: &RawScenario) -> Result<Vec<Region>, ScenarioError> {
    let mut regions = Vec::with_capacity(raw.regions.len());
    for (i, r) in raw.regions.iter().enumerate() {
        let (lat, lon) = (*r.lat.get_ref(), *r.lon.get_ref());
        if !(-90.0..=90.0).contains(&lat) {
            return Err(ctx.err(r.lat.span(), format!("regions[{i}].lat"), format!("expected degrees in [-90, 90], found {lat}")));
        }
        if !(-180.0..=180.0).contains(&lon) {
            return Err(ctx.err(r.lon.span(), format!("regions[{i}].lon"), format!("expected degrees in [-180, 180], found {lon}")));
        }
        regions.push(Region { name: r.name.get_ref().clone(), lat_deg: lat, lon_deg: lon });
    }
    Ok(regions)
}

fn inflation(ctx: &Ctx, v: &Spanned<f64>, field: String) -> Result<f64, ScenarioError> {
    let x = *v.get_ref();
    if !(x.is_finite() && x >= 1.0) {
        return Err(ctx.err(v.span(), field, format!("expected a factor of at least 1 (paths are never shorter than the geodesic), found {x}")));
    }
    Ok(x)
}

fn need<'a, T, P>(ctx: &Ctx, parent: &Spanned<P>, v: &'a Option<T>, field: &str) -> Result<&'a T, ScenarioError> {
    v.as_ref().ok_or_else(|| ctx.err(parent.span(), field, "expected this field for the chosen distribution, found none"))
}

/// 50 ms of traffic at the line rate: a common router buffer rule of thumb
/// (bandwidth-delay product of a typical RTT).
fn default_queue_bytes(rate_bps: u64) -> u64 {
    (rate_bps / 8 / 20).max(64 * 1024)
}

type Names<'a> = BTreeMap<&'a str, usize>;

/// `[broadcaster]` (one, ingest fixed) or `[broadcasters]` (a population
/// whose ingests are edges of their regions): exactly one of them.
fn broadcasters(ctx: &Ctx, raw: &RawScenario, node_names: &Names, region_names: &Names, nodes: &[Node]) -> Result<Broadcasters, ScenarioError> {
    match (&raw.broadcaster, &raw.broadcasters) {
        (Some(b), None) => {
            let b = b.get_ref();
            Ok(Broadcasters {
                count: 1,
                zipf: 0.0,
                local_viewers: 0.0,
                regions: vec![(ctx.lookup(region_names, "a region", &b.region, "broadcaster.region".into())?, 1.0)],
                ingest: Some(ctx.lookup(node_names, "a node", &b.ingest, "broadcaster.ingest".into())?),
                uplink_bps: ctx.nonzero(&b.uplink, "broadcaster.uplink", |r| r.0)?,
                access_latency_ns: b.access_latency.map_or(5_000_000, |d| d.0),
            })
        }
        (None, Some(p)) => {
            let b = p.get_ref();
            let count = *b.count.get_ref();
            if !(1..=MAX_BROADCASTERS).contains(&count) {
                return Err(ctx.err(b.count.span(), "broadcasters.count", format!("expected a count from 1 to {MAX_BROADCASTERS}, found {count}")));
            }
            let zipf = *b.zipf.get_ref();
            if !(zipf.is_finite() && (0.0..=4.0).contains(&zipf)) {
                return Err(ctx.err(b.zipf.span(), "broadcasters.zipf", format!("expected a Zipf exponent in [0, 4], found {zipf}")));
            }
            let local = *b.local_viewers.get_ref();
            if !(0.0..=1.0).contains(&local) {
                return Err(ctx.err(b.local_viewers.span(), "broadcasters.local_viewers", format!("expected a share in [0, 1], found {local}")));
            }
            if b.regions.is_empty() {
                return Err(ctx.err(p.span(), "broadcasters.regions", "expected at least one [[broadcasters.regions]] entry, found none"));
            }
            let mut regions = Vec::with_capacity(b.regions.len());
            for (i, r) in b.regions.iter().enumerate() {
                let field = format!("broadcasters.regions[{i}].region");
                let region = ctx.lookup(region_names, "a region", &r.region, field.clone())?;
                if !nodes.iter().any(|n| n.role == Role::Edge && n.region == region) {
                    return Err(ctx.err(r.region.span(), field, format!("expected a region with an edge node to ingest at, found {:?} with none", r.region.get_ref())));
                }
                regions.push((region, ctx.positive(&r.weight, format!("broadcasters.regions[{i}].weight"))?));
            }
            Ok(Broadcasters {
                count: count as u32,
                zipf,
                local_viewers: local,
                regions,
                ingest: None,
                uplink_bps: ctx.nonzero(&b.uplink, "broadcasters.uplink", |r| r.0)?,
                access_latency_ns: b.access_latency.map_or(5_000_000, |d| d.0),
            })
        }
        (Some(_), Some(p)) => Err(ctx.err(p.span(), "broadcasters", "expected either [broadcaster] or [broadcasters], found both")),
        (None, None) => Err(ctx.err(raw.run.name.span(), "broadcaster", "expected a [broadcaster] or [broadcasters] table, found neither")),
    }
}

/// Most broadcasters a scenario may have: stream ids are 32-bit and each
/// stream costs a few hundred bytes before anyone watches it.
pub const MAX_BROADCASTERS: i64 = 10_000_000;

/// Most viewers a scenario may start with (`[viewers] initial`): 32-bit
/// viewer ids with room for the arrivals.
pub const MAX_INITIAL_VIEWERS: i64 = 100_000_000;

/// `[routing]`; without it, the tree. Defaults follow the shared-CDN talk
/// where it gives numbers (hops <= 5 across ISPs and regions:
/// docs/references.md, Mesh hop bound) and are engineering estimates
/// otherwise (README "What the model covers").
fn routing(ctx: &Ctx, raw: &RawScenario, region_names: &Names) -> Result<Routing, ScenarioError> {
    let r = raw.routing.as_ref().map(|r| r.get_ref());
    let mode = match r.map(|r| ctx.one_of(&r.mode, "routing.mode", MODE_NAMES)).transpose()? {
        None | Some("tree") => Mode::Tree,
        Some("pool") => Mode::Pool,
        Some("mesh") => Mode::Mesh,
        Some(other) => unreachable!("{other:?} is in MODE_NAMES but has no mode"),
    };
    let quality = |v: Option<&Spanned<f64>>, field: &str, default: f64| -> Result<f64, ScenarioError> {
        match v {
            None => Ok(default),
            Some(v) if (0.0..=100.0).contains(v.get_ref()) => Ok(*v.get_ref()),
            Some(v) => Err(ctx.err(v.span(), field, format!("expected a quality score in [0, 100], found {}", v.get_ref()))),
        }
    };
    let weight = |v: Option<&Spanned<f64>>, field: &str, default: f64| -> Result<f64, ScenarioError> {
        match v {
            None => Ok(default),
            Some(v) if v.get_ref().is_finite() && *v.get_ref() >= 0.0 => Ok(*v.get_ref()),
            Some(v) => Err(ctx.err(v.span(), field, format!("expected a non-negative weight, found {}", v.get_ref()))),
        }
    };
    let count = |v: Option<&Spanned<i64>>, field: &str, range: std::ops::RangeInclusive<i64>, default: i64| -> Result<i64, ScenarioError> {
        match v {
            None => Ok(default),
            Some(v) if range.contains(v.get_ref()) => Ok(*v.get_ref()),
            Some(v) => Err(ctx.err(v.span(), field, format!("expected a count from {} to {}, found {}", range.start(), range.end(), v.get_ref()))),
        }
    };
    let service_region = match r.and_then(|r| r.service_region.as_ref()) {
        Some(name) => ctx.lookup(region_names, "a region", name, "routing.service_region".into())?,
        None => 0,
    };
    let hot_redundancy = match r.and_then(|r| r.hot_redundancy.as_ref()) {
        None => Redundancy::DisjointPaths,
        Some(v) => match v.get_ref() {
            RawRedundancy::Name(n) if crate::ctx::one_of(REDUNDANCY_NAMES, n) == Ok("disjoint-paths") => Redundancy::DisjointPaths,
            RawRedundancy::Fec(f) if f.fec.is_finite() && f.fec > 0.0 && f.fec <= 10.0 => Redundancy::Fec { overhead: f.fec },
            RawRedundancy::Fec(f) => {
                return Err(ctx.err(v.span(), "routing.hot_redundancy.fec", format!("expected repair bytes per source byte in (0, 10], found {}", f.fec)));
            }
            RawRedundancy::Name(other) => {
                return Err(ctx.err(v.span(), "routing.hot_redundancy", format!("expected \"disjoint-paths\" or {{ fec = <repair bytes per source byte> }}, found {other:?}")));
            }
        },
    };
    let hot_viewers = count(r.and_then(|r| r.hot_viewers.as_ref()), "routing.hot_viewers", 1..=u32::MAX as i64, 100)?;
    let cold_viewers = count(r.and_then(|r| r.cold_viewers.as_ref()), "routing.cold_viewers", 0..=hot_viewers, hot_viewers / 2)?;
    let uplink_copies = count(r.and_then(|r| r.uplink_copies.as_ref()), "routing.uplink_copies", 1..=MAX_UPLINK_COPIES, 1)?;
    if let Some(v) = r.and_then(|r| r.uplink_copies.as_ref())
        && uplink_copies > 1
        && mode != Mode::Tree
    {
        return Err(ctx.err(v.span(), "routing.uplink_copies", "expected 1 outside the tree (pools and the mesh route around a failed up-leg on their own), found more".to_string()));
    }
    Ok(Routing {
        mode,
        probe_interval_ns: match r.and_then(|r| r.probe_interval.as_ref()) {
            Some(v) => ctx.nonzero(v, "routing.probe_interval", |d| d.0)?,
            None => 1_000_000_000,
        },
        service_region,
        min_quality: quality(r.and_then(|r| r.min_quality.as_ref()), "routing.min_quality", 80.0)?,
        hot_min_quality: quality(r.and_then(|r| r.hot_min_quality.as_ref()), "routing.hot_min_quality", 90.0)?,
        max_hops: count(r.and_then(|r| r.max_hops.as_ref()), "routing.max_hops", 1..=16, 5)? as u8,
        switch_margin: weight(r.and_then(|r| r.switch_margin.as_ref()), "routing.switch_margin", 5.0)?,
        min_dwell_ns: r.and_then(|r| r.min_dwell.as_ref()).map_or(10_000_000_000, |v| v.get_ref().0),
        hot_viewers: hot_viewers as u32,
        cold_viewers: cold_viewers as u32,
        cost_per_hop: weight(r.and_then(|r| r.cost_per_hop.as_ref()), "routing.cost_per_hop", 1.0)?,
        cost_per_interconnect: weight(r.and_then(|r| r.cost_per_interconnect.as_ref()), "routing.cost_per_interconnect", 2.0)?,
        cost_per_price: weight(r.and_then(|r| r.cost_per_price.as_ref()), "routing.cost_per_price", 1.0)?,
        hot_redundancy,
        uplink_copies: r.and_then(|r| r.uplink_copies.as_ref()).map(|_| uplink_copies as u8),
        score: r.and_then(|r| r.score.as_ref()).map(|s| score(ctx, s.get_ref())).transpose()?,
        control: r.and_then(|r| r.control.as_ref()).map(|c| control(ctx, c.get_ref())).transpose()?,
    })
}

/// Longest timeout `[routing.control]` accepts: a control message gives up
/// within (max_retries + 1) x this, and a run that waits longer than an
/// hour for one message has lost it.
pub const MAX_CONTROL_TIMEOUT_NS: u64 = 3_600_000_000_000;

/// Most retries `[routing.control]` accepts: 16 doublings of even the
/// 10 ms floor pass the 8 s cap, so more would only repeat the cap.
pub const MAX_CONTROL_RETRIES: i64 = 16;

/// `[routing.control]`: 0 < first_timeout_min <= timeout_max <= 1 h,
/// retries 0 to 16; a field left out keeps the routing crate's default.
fn control(ctx: &Ctx, c: &RawRoutingControl) -> Result<ControlRetry, ScenarioError> {
    let d = cdnsim_routing::RetryConfig::default();
    let timeout_max_ns = match &c.timeout_max {
        None => d.max_timeout_ns,
        Some(v) if (1..=MAX_CONTROL_TIMEOUT_NS).contains(&v.get_ref().0) => v.get_ref().0,
        Some(v) => {
            return Err(ctx.err(v.span(), "routing.control.timeout_max", format!("expected a duration above zero and at most 1 h, found {} ns", v.get_ref().0)));
        }
    };
    let first_timeout_min_ns = match &c.first_timeout_min {
        None if d.min_timeout_ns <= timeout_max_ns => d.min_timeout_ns,
        None => timeout_max_ns,
        Some(v) if (1..=timeout_max_ns).contains(&v.get_ref().0) => v.get_ref().0,
        Some(v) => {
            return Err(ctx.err(
                v.span(),
                "routing.control.first_timeout_min",
                format!("expected a duration above zero and at most timeout_max ({timeout_max_ns} ns), found {} ns", v.get_ref().0),
            ));
        }
    };
    let max_retries = match &c.max_retries {
        None => d.max_retries,
        Some(v) if (0..=MAX_CONTROL_RETRIES).contains(v.get_ref()) => *v.get_ref() as u8,
        Some(v) => {
            return Err(ctx.err(v.span(), "routing.control.max_retries", format!("expected a count from 0 to {MAX_CONTROL_RETRIES}, found {}", v.get_ref())));
        }
    };
    Ok(ControlRetry { first_timeout_min_ns, timeout_max_ns, max_retries })
}

/// `[routing.score]`: finite coefficients, none of delay, loss or
/// retransmission positive (a worse link never scores better).
fn score(ctx: &Ctx, s: &RawScore) -> Result<ScoreFn, ScenarioError> {
    let d = ScoreFn::default();
    let coef = |v: &Option<Spanned<f64>>, name: &str, default: f64, signed: bool| -> Result<f64, ScenarioError> {
        match v {
            None => Ok(default),
            Some(v) if v.get_ref().is_finite() && (signed || *v.get_ref() <= 0.0) => Ok(*v.get_ref()),
            Some(v) => {
                let expected = if signed { "a finite number" } else { "a finite number at most 0 (more of it never scores better)" };
                Err(ctx.err(v.span(), format!("routing.score.{name}"), format!("expected {expected}, found {}", v.get_ref())))
            }
        }
    };
    Ok(ScoreFn {
        intercept: coef(&s.intercept, "intercept", d.intercept, true)?,
        per_delay_ms: coef(&s.per_delay_ms, "per_delay_ms", d.per_delay_ms, false)?,
        per_loss: coef(&s.per_loss, "per_loss", d.per_loss, false)?,
        per_retransmit: coef(&s.per_retransmit, "per_retransmit", d.per_retransmit, false)?,
    })
}

/// Most paths a tree up-leg may be copied over.
pub const MAX_UPLINK_COPIES: i64 = 4;

/// ESIs a last-hop layout may span: the decode table is calibrated with
/// repair ids drawn from below this end (data/decode_model.csv says so in
/// its `#! esi_end` line), and raptorq fails more often over wider spans.
pub const LAST_HOP_ESI_SPAN: u32 = cdnsim_codec::LAST_HOP_ESI_END;

/// `[last_hop]`. K and the ESI layout are checked by the codec crate's own
/// constructors; the server keeps K repair ids of its own after the slots.
fn last_hop(ctx: &Ctx, l: &RawLastHop, stream: &Stream, broadcasters: u32) -> Result<LastHop, ScenarioError> {
    let count = |v: Option<&Spanned<i64>>, field: &str, range: std::ops::RangeInclusive<i64>, default: i64| -> Result<i64, ScenarioError> {
        match v {
            None => Ok(default),
            Some(v) if range.contains(v.get_ref()) => Ok(*v.get_ref()),
            Some(v) => Err(ctx.err(v.span(), field, format!("expected a count from {} to {}, found {}", range.start(), range.end(), v.get_ref()))),
        }
    };
    let streams = count(l.streams.as_ref(), "last_hop.streams", 1..=broadcasters as i64, 1)? as u32;
    let fidelity = match l.fidelity.as_ref().map(|f| ctx.one_of(f, "last_hop.fidelity", FIDELITY_NAMES)).transpose()? {
        None | Some("model") => Fidelity::Model,
        Some("structural") => Fidelity::Structural,
        Some("full") => Fidelity::Full,
        Some(other) => unreachable!("{other:?} is in FIDELITY_NAMES but has no fidelity"),
    };
    let symbol_bytes = l.symbol.as_ref().map_or(1250, |s| s.get_ref().0);
    let spec = cdnsim_codec::BlockSpec::new(stream.block_bytes(), symbol_bytes).map_err(|e| {
        let span = l.symbol.as_ref().map_or(l.share.span(), |s| s.span());
        ctx.err(span, "last_hop.symbol", format!("expected a symbol size that cuts a block into a legal source block: {e}"))
    })?;
    let k = spec.k();
    let share = *l.share.get_ref();
    if !(share.is_finite() && share > 0.0 && share <= 1.0) {
        return Err(ctx.err(l.share.span(), "last_hop.share", format!("expected a fraction of the stream in (0, 1], found {share}")));
    }
    let symbols_per_node = ((share * k as f64) - 1e-9).ceil().max(1.0) as u32;
    // The span holds the K source ids and at least K repair ids; a small
    // symbol makes K too big for it (found by cdnsim-fuzz: it underflowed).
    let Some(free) = LAST_HOP_ESI_SPAN.checked_sub(2 * k as u32) else {
        let span = l.symbol.as_ref().map_or(l.share.span(), |s| s.span());
        return Err(ctx.err(
            span,
            "last_hop.symbol",
            format!(
                "expected a symbol size that cuts a block into at most {} source symbols (the decode model's span of {LAST_HOP_ESI_SPAN} ids), found {k}",
                LAST_HOP_ESI_SPAN / 2
            ),
        ));
    };
    let slots = free / symbols_per_node;
    cdnsim_codec::ShareLayout::new(k, slots.max(1), symbols_per_node)
        .map_err(|e| ctx.err(l.share.span(), "last_hop.share", format!("expected a share whose layout fits: {e}")))?;
    let probability = |v: Option<&Spanned<f64>>, field: &str, default: f64| -> Result<f64, ScenarioError> {
        match v {
            None => Ok(default),
            Some(v) => ctx.fraction(v, field.into()),
        }
    };
    let target = probability(l.target.as_ref(), "last_hop.target", 0.999)?;
    if target <= 0.0 {
        let span = l.target.as_ref().expect("defaults are positive").span();
        return Err(ctx.err(span, "last_hop.target", "expected a probability in (0, 1), found 0"));
    }
    Ok(LastHop {
        streams,
        fidelity,
        symbol_bytes,
        k,
        symbols_per_node,
        slots: slots.max(1),
        // Defaults from the talk: the scheduler hears from a node every
        // ~10 s and offers about twice the nodes a client needs
        // (docs/references.md, Heartbeat and candidates).
        heartbeat_ns: match l.heartbeat.as_ref() {
            Some(v) => ctx.nonzero(v, "last_hop.heartbeat", |d| d.0)?,
            None => 10_000_000_000,
        },
        candidates_factor: match l.candidates.as_ref() {
            Some(v) if v.get_ref().is_finite() && (1.0..=10.0).contains(v.get_ref()) => *v.get_ref(),
            Some(v) => return Err(ctx.err(v.span(), "last_hop.candidates", format!("expected a factor from 1 to 10, found {}", v.get_ref()))),
            None => 2.0,
        },
        loss: probability(l.loss.as_ref(), "last_hop.loss", 0.01)?,
        ramp_blocks: count(l.ramp_blocks.as_ref(), "last_hop.ramp_blocks", 1..=1000, 4)? as u32,
        target,
        // h = 2: a decode fails about once in 1e6 at K + 2 symbols
        // (docs/references.md, Decode failure).
        headroom_symbols: count(l.headroom.as_ref(), "last_hop.headroom", 0..=1000, 2)? as u32,
        selection: l.selection.as_ref().map(|s| selection(ctx, s.get_ref())).transpose()?,
    })
}

/// `[last_hop.selection]`: a positive interval, leave at most enter.
fn selection(ctx: &Ctx, s: &RawSelection) -> Result<LastHopSelection, ScenarioError> {
    let interval_ns = ctx.nonzero(&s.interval, "last_hop.selection.interval", |d| d.0)?;
    let enter_bps = s.enter.get_ref().0;
    let leave_bps = s.leave.as_ref().map_or(enter_bps, |l| l.get_ref().0);
    // Selection holds them as i64.
    if enter_bps > i64::MAX as u64 {
        return Err(ctx.err(s.enter.span(), "last_hop.selection.enter", format!("expected a rate below {} bps, found {enter_bps}", i64::MAX)));
    }
    if leave_bps > enter_bps {
        let span = s.leave.as_ref().expect("leave defaults to enter").span();
        return Err(ctx.err(
            span,
            "last_hop.selection.leave",
            format!("expected a leave threshold at most the enter threshold ({enter_bps} bps), found {leave_bps} bps"),
        ));
    }
    Ok(LastHopSelection { interval_ns, enter_bps, leave_bps, min_dwell_ns: s.min_dwell.as_ref().map_or(0, |d| d.get_ref().0) })
}

/// `[network.background]`: shares in [0, 1), one for every hour or 24.
fn background(ctx: &Ctx, b: &RawBackground) -> Result<Background, ScenarioError> {
    let shares = |v: &Option<Spanned<RawShares>>, field: &str| -> Result<[f64; 24], ScenarioError> {
        let Some(v) = v else { return Ok([0.0; 24]) };
        let bad = |m: String| ctx.err(v.span(), field, m);
        let out: [f64; 24] = match v.get_ref() {
            RawShares::One(x) => [*x; 24],
            RawShares::Hourly(xs) => xs.as_slice().try_into().map_err(|_| bad(format!("expected one share or 24 hourly shares, found {}", xs.len())))?,
        };
        if let Some(x) = out.iter().find(|x| !(x.is_finite() && (0.0..1.0).contains(*x))) {
            return Err(bad(format!("expected shares of capacity in [0, 1), found {x}")));
        }
        Ok(out)
    };
    let start_hour = match &b.start_hour {
        None => 20,
        Some(h) if (0..=23).contains(h.get_ref()) => *h.get_ref() as u32,
        Some(h) => return Err(ctx.err(h.span(), "network.background.start_hour", format!("expected an hour from 0 to 23, found {}", h.get_ref()))),
    };
    Ok(Background {
        start_hour,
        interconnect: shares(&b.interconnect, "network.background.interconnect")?,
        corridor: shares(&b.corridor, "network.background.corridor")?,
    })
}
