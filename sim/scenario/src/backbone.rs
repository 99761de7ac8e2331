//! `[network] topology = "china"`: the bundled backbone a scenario's IDC
//! nodes come from. A link between two topology IDCs rides their backbone
//! path, which supplies what the scenario leaves out: latency (sum of the
//! path's links), bandwidth (its bottleneck), loss (the path's links'
//! long-run losses combined as independent) and shared-risk groups (every
//! corridor or interconnect it crosses), so a `[[faults]]` entry on a
//! corridor fails every overlay link that depends on it, as the 2015
//! jing-han-guang outage took out both tree sources behind it.
//!
//! The path is fixed when the scenario is resolved: the underlay does not
//! reroute during a run. Routing around a failure is the overlay's job.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use cdnsim_net::backbone::{Backbone, Endpoint, IdcId, LinkId, LinkKind};
use crate::model::{BackboneHop, BackboneLink};
use crate::spanned::Spanned;

use crate::error::ScenarioError;
use crate::raw::{RawLink, RawNode, RawOverlay};
use crate::ctx::Ctx;
use crate::topology::{IdcRole, TopologyData, load_topology};

pub(crate) struct Loaded {
    pub data: TopologyData,
    backbone: Backbone,
    idcs: BTreeMap<String, usize>,
    /// The backbone links some path crossed, in order of first crossing
    /// (the scenario's `backbone_links`; queues are set by the resolver),
    /// and their indices there by backbone link id.
    pub shared: Vec<BackboneLink>,
    shared_index: BTreeMap<u32, u32>,
}

/// What a node takes from the IDC it names.
pub(crate) struct IdcInfo {
    pub name: String,
    pub province: String,
    pub area: String,
    /// The ISP it is on, or "bgp" for a multi-line IDC.
    pub isp: String,
    /// Every ISP it is on.
    pub isps: Vec<String>,
    pub egress_bps: u64,
    pub price_per_gb: f64,
}

/// What a link takes from the backbone path between its ends.
pub(crate) struct PathInfo {
    pub latency_ns: u64,
    pub capacity_bps: u64,
    pub loss: f64,
    pub groups: Vec<String>,
    /// Whether the path crosses from one ISP to another.
    pub interconnect: bool,
    /// The corridor segments and interconnects crossed, from `a`.
    pub hops: Vec<BackboneHop>,
}

/// Loads `topologies/<name>.toml` from the scenario's folder.
pub(crate) fn load(ctx: &Ctx, name: &Spanned<String>, field: &str) -> Result<Loaded, ScenarioError> {
    let n = name.get_ref();
    if n.is_empty() || !n.chars().all(|c| c.is_ascii_alphanumeric() || "-_".contains(c)) {
        return Err(ctx.err(name.span(), field, format!("expected a topology name of letters, digits, '-' or '_', found {n:?}")));
    }
    let path = Path::new(ctx.file).parent().unwrap_or(Path::new(".")).join("topologies").join(format!("{n}.toml"));
    let data = load_topology(&path).map_err(|e| match e {
        ScenarioError::Read { message, .. } => ctx.err(
            name.span(),
            field,
            format!("expected a topology file at {}, found none ({message})", path.display()),
        ),
        located => located,
    })?;
    from_data(ctx, data, name.span(), field)
}

/// A resolved topology (read from a file or generated) with its backbone
/// built; a failure is reported at `span`.
pub(crate) fn from_data(ctx: &Ctx, data: TopologyData, span: std::ops::Range<usize>, field: &str) -> Result<Loaded, ScenarioError> {
    let backbone = Backbone::new(data.backbone_input())
        .map_err(|e| ctx.err(span, field, format!("the topology does not build a backbone: {e}")))?;
    let idcs = data.idcs.iter().enumerate().map(|(i, d)| (d.name.clone(), i)).collect();
    Ok(Loaded { data, backbone, idcs, shared: Vec::new(), shared_index: BTreeMap::new() })
}

pub(crate) fn idc(ctx: &Ctx, loaded: Option<&Loaded>, name: &Spanned<String>, field: String) -> Result<IdcInfo, ScenarioError> {
    let Some(t) = loaded else {
        return Err(ctx.err(name.span(), field, "expected [network] topology to be set for a node that names an idc, found none"));
    };
    let i = *t.idcs.get(name.get_ref().as_str()).ok_or_else(|| {
        ctx.err(
            name.span(),
            field,
            format!(
                "expected an IDC of topology {:?} (such as {:?}), found {:?}",
                t.data.name,
                t.data.idcs.first().map_or("", |d| d.name.as_str()),
                name.get_ref()
            ),
        )
    })?;
    let d = &t.data.idcs[i];
    let isp = if d.isps.len() == 1 { t.data.isps[d.isps[0]].name.clone() } else { "bgp".to_string() };
    let province = &t.data.provinces[d.province];
    Ok(IdcInfo {
        name: d.name.clone(),
        province: province.name.clone(),
        area: t.data.areas[province.area].name.clone(),
        isp,
        isps: d.isps.iter().map(|&i| t.data.isps[i].name.clone()).collect(),
        egress_bps: d.egress_bps,
        price_per_gb: d.price_per_gb,
    })
}

pub(crate) fn path(ctx: &Ctx, t: &mut Loaded, a: &str, b: &str, span: Range<usize>, field: String) -> Result<PathInfo, ScenarioError> {
    let end = |name: &str| Endpoint::Idc(IdcId(t.idcs[name] as u32));
    let (from, to) = (end(a), end(b));
    let p = t
        .backbone
        .path(from, to)
        .ok_or_else(|| ctx.err(span, field, format!("expected a backbone path between {a:?} and {b:?}, found none")))?;
    let mut groups: Vec<String> = Vec::new();
    let (mut capacity_bps, mut delivered, mut interconnect) = (u64::MAX, 1.0, false);
    let (mut at, mut offset_ns, mut hops) = (from, 0u64, Vec::new());
    for &l in &p.links {
        let link = t.backbone.link(l);
        let reverse = at != link.a;
        at = link.other(at);
        if !matches!(link.kind, LinkKind::Access { .. }) {
            let next = t.shared.len() as u32;
            let index = *t.shared_index.entry(l.0).or_insert(next);
            if index == next {
                t.shared.push(BackboneLink {
                    name: shared_name(&t.backbone, l),
                    interconnect: link.is_interconnect(),
                    capacity_bps: link.capacity_bps,
                    queue_bytes: 0,
                });
            }
            hops.push(BackboneHop { link: index, reverse, offset_ns, latency_ns: link.latency_ns, total_ns: p.latency_ns });
        }
        offset_ns += link.latency_ns;
        interconnect |= link.is_interconnect();
        capacity_bps = capacity_bps.min(link.capacity_bps);
        delivered *= 1.0 - link.loss.mean_loss();
        groups.extend(link.groups.iter().map(|&g| t.backbone.group_name(g).to_string()));
    }
    groups.sort();
    groups.dedup();
    Ok(PathInfo { latency_ns: p.latency_ns, capacity_bps, loss: 1.0 - delivered, groups, interconnect, hops })
}

/// A readable, unique name of a corridor segment or interconnect pair.
fn shared_name(b: &Backbone, l: LinkId) -> String {
    let link = b.link(l);
    let place = |e: Endpoint| match e {
        Endpoint::Pop(p) => {
            let pop = b.pop(p);
            (b.isps()[pop.isp.index()].as_str(), b.regions()[pop.region.index()].as_str())
        }
        Endpoint::Idc(d) => (b.idc(d).name.as_str(), ""),
    };
    let ((isp_a, ra), (isp_b, rb)) = (place(link.a), place(link.b));
    match link.kind {
        LinkKind::Interconnect { site } => format!("{}:{isp_a}.{ra}-{isp_b}.{rb}", b.interconnects()[site.index()].name),
        _ => format!("{isp_a}:{ra}-{rb}"),
    }
}

/// `[overlay]`: the nodes and links it stands for, as if written in the
/// file (so they pass the same checks), each located at the `[overlay]`
/// table. Order is the topology's: sources, centres, edges; links in node
/// order. See [`RawOverlay`] for what is linked.
pub(crate) fn overlay(ctx: &Ctx, loaded: Option<&Loaded>, o: &Spanned<RawOverlay>) -> Result<(Vec<RawNode>, Vec<RawLink>), ScenarioError> {
    let Some(t) = loaded else {
        return Err(ctx.err(o.span(), "overlay", "expected [network] topology to be set: the overlay is taken from it"));
    };
    let raw = o.get_ref();
    let d = &t.data;
    let at = |v: String| Spanned::new(o.span(), v);
    if !t.idcs.contains_key(raw.root.get_ref()) || d.idcs[t.idcs[raw.root.get_ref()]].role != IdcRole::Source {
        let sources: Vec<&str> = d.idcs.iter().filter(|i| i.role == IdcRole::Source).map(|i| i.name.as_str()).collect();
        return Err(ctx.err(raw.root.span(), "overlay.root", format!("expected a source IDC of the topology ({}), found {:?}", sources.join(", "), raw.root.get_ref())));
    }
    let mut isps = Vec::new();
    for name in raw.isps.get_ref() {
        match d.isp_index(name) {
            Some(i) => isps.push(i),
            None => {
                let known: Vec<&str> = d.isps.iter().map(|i| i.name.as_str()).collect();
                return Err(ctx.err(raw.isps.span(), "overlay.isps", format!("expected ISPs of the topology ({}), found {name:?}", known.join(", "))));
            }
        }
    }
    let per_isp = *raw.edges_per_isp.get_ref();
    if !(1..=1000).contains(&per_isp) {
        return Err(ctx.err(raw.edges_per_isp.span(), "overlay.edges_per_isp", format!("expected a count from 1 to 1000, found {per_isp}")));
    }

    // (topology IDC, role, tree parent)
    let mut picked: Vec<(usize, &str, Option<String>)> = Vec::new();
    let centre_name = |area: usize, isp: usize| format!("centre.{}.{}", d.areas[area].name, d.isps[isp].name);
    let root_isps = &d.idcs[t.idcs[raw.root.get_ref()]].isps;
    for (i, idc) in d.idcs.iter().enumerate() {
        match idc.role {
            IdcRole::Source => picked.push((i, "source", None)),
            IdcRole::Centre if isps.contains(&idc.isps[0]) => picked.push((i, "centre", Some(raw.root.get_ref().clone()))),
            IdcRole::Edge if isps.contains(&idc.isps[0]) => {
                let n: i64 = idc.name.rsplit('.').next().and_then(|k| k.parse().ok()).unwrap_or(i64::MAX);
                if n > per_isp {
                    continue;
                }
                let area = d.provinces[idc.province].area;
                let centre = centre_name(area, idc.isps[0]);
                if t.idcs.contains_key(&centre) {
                    picked.push((i, "edge", Some(centre)));
                } else if root_isps.contains(&idc.isps[0]) {
                    // A small ISP without regional centres meets the tree
                    // at the multi-line root, which has a line into it.
                    picked.push((i, "edge", Some(raw.root.get_ref().clone())));
                } else {
                    return Err(ctx.err(
                        raw.isps.span(),
                        "overlay.isps",
                        format!(
                            "expected ISPs whose edges can join the tree (a regional centre on the ISP in their area, or a root source on the ISP), found {:?}, which has neither in area {:?}",
                            d.isps[idc.isps[0]].name,
                            d.areas[area].name
                        ),
                    ));
                }
            }
            _ => {}
        }
    }
    let nodes: Vec<RawNode> = picked
        .iter()
        .map(|(i, role, parent)| RawNode {
            name: at(d.idcs[*i].name.clone()),
            idc: Some(at(d.idcs[*i].name.clone())),
            region: None,
            isp: None,
            role: at(role.to_string()),
            parent: parent.clone().map(at),
            egress: None,
            egress_queue: None,
        })
        .collect();

    let mut pairs: Vec<(usize, usize)> = Vec::new();
    for (a, (ia, ra, pa)) in picked.iter().enumerate() {
        for (b, (ib, rb, _)) in picked.iter().enumerate().skip(a + 1) {
            let (x, y) = (&d.idcs[*ia], &d.idcs[*ib]);
            let linked = match (*ra, *rb) {
                ("source", _) | (_, "source") | ("centre", "centre") => true,
                ("edge", "edge") => x.province == y.province,
                _ => false,
            } || pa.as_deref() == Some(y.name.as_str())
                || picked[b].2.as_deref() == Some(x.name.as_str());
            if linked {
                pairs.push((a, b));
            }
        }
    }
    let links = pairs
        .into_iter()
        .map(|(a, b)| RawLink {
            from: at(d.idcs[picked[a].0].name.clone()),
            to: at(d.idcs[picked[b].0].name.clone()),
            bandwidth: None,
            loss: None,
            queue: None,
            latency: None,
            route_inflation: None,
            groups: Vec::new(),
        })
        .collect();
    Ok((nodes, links))
}
