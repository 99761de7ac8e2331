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

use cdnsim_net::backbone::{Backbone, Endpoint, IdcId};
use toml::Spanned;

use crate::error::ScenarioError;
use crate::resolve::Ctx;
use crate::topology::{TopologyData, load_topology};

pub(crate) struct Loaded {
    pub data: TopologyData,
    backbone: Backbone,
    idcs: BTreeMap<String, usize>,
}

/// What a node takes from the IDC it names.
pub(crate) struct IdcInfo {
    pub name: String,
    pub province: String,
    /// The ISP it is on, or "bgp" for a multi-line IDC.
    pub isp: String,
    pub egress_bps: u64,
}

/// What a link takes from the backbone path between its ends.
pub(crate) struct PathInfo {
    pub latency_ns: u64,
    pub capacity_bps: u64,
    pub loss: f64,
    pub groups: Vec<String>,
}

/// Loads `topologies/<name>.toml` from the scenario's folder.
pub(crate) fn load(ctx: &Ctx, name: &Spanned<String>) -> Result<Loaded, ScenarioError> {
    let n = name.get_ref();
    if n.is_empty() || !n.chars().all(|c| c.is_ascii_alphanumeric() || "-_".contains(c)) {
        return Err(ctx.err(name.span(), "network.topology", format!("expected a topology name of letters, digits, '-' or '_', found {n:?}")));
    }
    let path = Path::new(ctx.file).parent().unwrap_or(Path::new(".")).join("topologies").join(format!("{n}.toml"));
    let data = load_topology(&path).map_err(|e| match e {
        ScenarioError::Read { message, .. } => ctx.err(
            name.span(),
            "network.topology",
            format!("expected a topology file at {}, found none ({message})", path.display()),
        ),
        located => located,
    })?;
    let backbone = Backbone::new(data.backbone_input())
        .map_err(|e| ctx.err(name.span(), "network.topology", format!("the topology does not build a backbone: {e}")))?;
    let idcs = data.idcs.iter().enumerate().map(|(i, d)| (d.name.clone(), i)).collect();
    Ok(Loaded { data, backbone, idcs })
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
    Ok(IdcInfo { name: d.name.clone(), province: t.data.provinces[d.province].name.clone(), isp, egress_bps: d.egress_bps })
}

pub(crate) fn path(ctx: &Ctx, t: &mut Loaded, a: &str, b: &str, span: Range<usize>, field: String) -> Result<PathInfo, ScenarioError> {
    let end = |name: &str| Endpoint::Idc(IdcId(t.idcs[name] as u32));
    let (from, to) = (end(a), end(b));
    let p = t
        .backbone
        .path(from, to)
        .ok_or_else(|| ctx.err(span, field, format!("expected a backbone path between {a:?} and {b:?}, found none")))?;
    let mut groups: Vec<String> = Vec::new();
    let (mut capacity_bps, mut delivered) = (u64::MAX, 1.0);
    for &l in &p.links {
        let link = t.backbone.link(l);
        capacity_bps = capacity_bps.min(link.capacity_bps);
        delivered *= 1.0 - link.loss.mean_loss();
        groups.extend(link.groups.iter().map(|&g| t.backbone.group_name(g).to_string()));
    }
    groups.sort();
    groups.dedup();
    Ok(PathInfo { latency_ns: p.latency_ns, capacity_bps, loss: 1.0 - delivered, groups })
}
