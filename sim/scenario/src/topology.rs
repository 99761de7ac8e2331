//! Backbone topology files (`scenarios/topologies/*.toml`): provinces and
//! areas, ISPs and where they have PoPs, per-ISP backbone links with
//! shared-risk groups, inter-ISP interconnect sites, and IDCs (explicit,
//! plus regional centres and edge counts given as data). Parsed like a
//! scenario: raw serde structs with unknown fields refused, then a resolve
//! step that checks every reference and points at the value that is wrong.
//!
//! The result, [`TopologyData`], is plain data in base units; the world
//! turns it into a `cdnsim_net::backbone::Backbone`.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use crate::spanned::Spanned;

use crate::error::ScenarioError;
use crate::ctx::Ctx;
use crate::raw::{ROLE_NAMES, RawLoss};
use cdnsim_net::LossModel;
use cdnsim_net::backbone::{BackboneInput, IdcSpec, InterconnectSpec, LinkSpec, PopSpec};

use crate::model::LinkLoss;
use crate::units::{DurationNs, RateBps};

/// Table bounds, the same as the backbone's (`cdnsim_net::backbone`), so a
/// file that resolves here also fits there.
pub const MAX_ISPS: usize = 64;
pub const MAX_PROVINCES: usize = 4096;
pub const MAX_LINKS: usize = 1 << 20;
pub const MAX_INTERCONNECTS: usize = 1024;
pub const MAX_IDCS: usize = 1 << 20;
pub const MAX_GROUPS_PER_LINK: usize = 16;
/// Edge IDCs one `[edges]` entry may ask for per ISP.
pub const MAX_EDGES_PER_ENTRY: i64 = 10_000;

pub const DEFAULT_PROPAGATION_KM_PER_MS: f64 = 200.0;
pub const DEFAULT_ROUTE_INFLATION: f64 = 1.5;
pub const DEFAULT_MIN_LATENCY_NS: u64 = 1_000_000;
pub const DEFAULT_ACCESS_LATENCY_NS: u64 = 500_000;

// ------------------------------------------------------------ resolved

/// A resolved topology: names checked, references turned into indices,
/// defaults filled in, values in ns, bit/s and probabilities.
#[derive(Clone, Debug, Serialize)]
pub struct TopologyData {
    pub name: String,
    pub description: String,
    pub propagation_km_per_ms: f64,
    /// The default route inflation, also used between an interconnect's
    /// PoPs.
    pub route_inflation: f64,
    pub min_latency_ns: u64,
    pub isps: Vec<Isp>,
    pub areas: Vec<Area>,
    pub provinces: Vec<Province>,
    /// One per (province, ISP present there), province-major.
    pub pops: Vec<Pop>,
    pub links: Vec<BackboneLink>,
    pub interconnects: Vec<Interconnect>,
    /// Explicit IDCs, then centres (area order), then edges (entry order).
    pub idcs: Vec<Idc>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Isp {
    pub name: String,
    pub label: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Area {
    pub name: String,
    pub label: String,
    /// The province of the area's regional centres.
    pub hub: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct Province {
    pub name: String,
    pub capital: String,
    pub area: usize,
    pub lat_deg: f64,
    pub lon_deg: f64,
    /// Cloud providers with a region there (a global cloud's file; empty
    /// in an ISP backbone's).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub providers: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Pop {
    /// `<isp>.<province>`.
    pub name: String,
    pub province: usize,
    pub isp: usize,
}

/// A link inside one ISP, between two of its PoPs.
#[derive(Clone, Debug, Serialize)]
pub struct BackboneLink {
    pub isp: usize,
    pub a: usize,
    pub b: usize,
    pub bandwidth_bps: u64,
    pub loss: LinkLoss,
    pub route_inflation: f64,
    /// One-way latency when given; `None` derives it from the distance.
    pub latency_ns: Option<u64>,
    /// Shared-risk groups, sorted.
    pub groups: Vec<String>,
    /// Over a submarine cable (`class = "submarine"`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub submarine: bool,
}

/// A site where ISPs exchange traffic: every pair of its PoPs is linked.
#[derive(Clone, Debug, Serialize)]
pub struct Interconnect {
    pub name: String,
    pub province: usize,
    pub isps: Vec<usize>,
    /// The PoPs of `isps` in `province`, in the same order.
    pub pops: Vec<usize>,
    pub extra_latency_ns: u64,
    pub capacity_bps: u64,
    pub loss: LinkLoss,
    pub groups: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IdcRole {
    /// Multi-line BGP source: where streams enter.
    Source,
    /// An area's regional centre on one ISP.
    Centre,
    Edge,
}

#[derive(Clone, Debug, Serialize)]
pub struct Idc {
    pub name: String,
    pub role: IdcRole,
    pub province: usize,
    /// One or more ISPs; more than one is multi-line BGP.
    pub isps: Vec<usize>,
    /// The PoPs of `isps` in `province`, in the same order.
    pub pops: Vec<usize>,
    pub egress_bps: u64,
    pub price_per_gb: f64,
    pub access_latency_ns: u64,
}

impl TopologyData {
    pub fn isp_index(&self, name: &str) -> Option<usize> {
        self.isps.iter().position(|i| i.name == name)
    }

    pub fn province_index(&self, name: &str) -> Option<usize> {
        self.provinces.iter().position(|p| p.name == name)
    }

    /// The PoP of `isp` in `province`, if it has one.
    pub fn pop(&self, province: usize, isp: usize) -> Option<usize> {
        self.pops.iter().position(|p| p.province == province && p.isp == isp)
    }
}

// ------------------------------------------------------------------ raw

/// A backbone topology (`scenarios/topologies/<name>.toml`): provinces and
/// areas, ISPs, their backbones and interconnects, and IDCs. Durations,
/// rates and sizes are strings with units ("5 ms", "10 Gbps"); unknown
/// fields are errors.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTopology {
    /// Its name and description.
    topology: RawHeader,
    #[serde(default)]
    network: RawNetwork,
    /// The ISPs.
    isps: Vec<RawIsp>,
    /// The areas provinces belong to.
    areas: Vec<RawArea>,
    /// The provinces.
    provinces: Vec<RawProvince>,
    /// Per-ISP backbone links.
    #[serde(default)]
    backbones: Vec<RawBackbone>,
    /// Where ISPs exchange traffic.
    #[serde(default)]
    interconnects: Vec<RawInterconnect>,
    /// IDCs given one by one.
    #[serde(default)]
    idcs: Vec<RawIdc>,
    /// Regional centres of every area.
    centres: Option<Spanned<RawCentres>>,
    /// Edge IDCs by province and ISP.
    edges: Option<RawEdges>,
}

/// The topology's name and description.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawHeader {
    name: Spanned<String>,
    #[serde(default)]
    description: String,
}

/// How latency follows from distance.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawNetwork {
    /// Propagation speed in fibre (default 200 km/ms).
    propagation_km_per_ms: Option<Spanned<f64>>,
    route_inflation: Option<Spanned<f64>>,
    /// Least one-way latency of a link (default "1 ms").
    min_latency: Option<Spanned<DurationNs>>,
    access_latency: Option<Spanned<DurationNs>>,
}

/// An ISP.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawIsp {
    name: Spanned<String>,
    #[serde(default)]
    label: String,
    /// Where the ISP has PoPs; absent means every province.
    provinces: Option<Vec<Spanned<String>>>,
}

/// An area (North China, East China, ...): regional centres serve it.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawArea {
    name: Spanned<String>,
    #[serde(default)]
    label: String,
    /// The province of the area's regional centres.
    hub: Spanned<String>,
}

/// A province, at its capital's coordinates.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawProvince {
    name: Spanned<String>,
    #[serde(default)]
    capital: String,
    /// The area it belongs to.
    area: Spanned<String>,
    /// Latitude in degrees.
    lat: Spanned<f64>,
    /// Longitude in degrees.
    lon: Spanned<f64>,
    /// Cloud providers with a region there (names, each once).
    #[serde(default)]
    providers: Vec<Spanned<String>>,
}

/// One ISP's backbone: links between its PoPs.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawBackbone {
    isp: Spanned<String>,
    bandwidth: Spanned<RateBps>,
    loss: Option<Spanned<RawLoss>>,
    route_inflation: Option<Spanned<f64>>,
    links: Vec<RawBackboneLink>,
}

/// A backbone link between the ISP's PoPs in two provinces.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawBackboneLink {
    a: Spanned<String>,
    b: Spanned<String>,
    bandwidth: Option<Spanned<RateBps>>,
    loss: Option<Spanned<RawLoss>>,
    route_inflation: Option<Spanned<f64>>,
    latency: Option<Spanned<DurationNs>>,
    /// Shared-risk groups (a corridor) the link belongs to.
    #[serde(default)]
    groups: Vec<Spanned<String>>,
    /// "terrestrial" (default) or "submarine" (over a submarine cable).
    #[schemars(extend("enum" = LINK_CLASS_NAMES))]
    class: Option<Spanned<String>>,
}

/// Names `class` of a backbone link accepts.
pub const LINK_CLASS_NAMES: &[&str] = &["terrestrial", "submarine"];

/// A site where ISPs exchange traffic: every pair of its PoPs is linked.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawInterconnect {
    name: Spanned<String>,
    province: Spanned<String>,
    isps: Spanned<Vec<Spanned<String>>>,
    /// Latency added by crossing here.
    extra_latency: Spanned<DurationNs>,
    /// Capacity between each pair of PoPs.
    capacity: Spanned<RateBps>,
    loss: Option<Spanned<RawLoss>>,
    /// Shared-risk groups (a corridor) the link belongs to.
    #[serde(default)]
    groups: Vec<Spanned<String>>,
}

/// An IDC given explicitly.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawIdc {
    name: Spanned<String>,
    /// "source", "centre" or "edge".
    #[schemars(extend("enum" = ROLE_NAMES))]
    role: Spanned<String>,
    province: Spanned<String>,
    isps: Spanned<Vec<Spanned<String>>>,
    /// Capacity towards viewers.
    egress: Spanned<RateBps>,
    /// Price of egress per GB, non-negative.
    price_per_gb: Spanned<f64>,
    access_latency: Option<Spanned<DurationNs>>,
}

/// Regional centres: one per (area, ISP) in the area's hub province.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawCentres {
    isps: Vec<Spanned<String>>,
    /// Capacity towards viewers.
    egress: Spanned<RateBps>,
    /// Price of egress per GB, non-negative.
    price_per_gb: Spanned<f64>,
    access_latency: Option<Spanned<DurationNs>>,
}

/// Edge IDCs, counted per (province, ISP).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawEdges {
    /// Capacity towards viewers.
    egress: Spanned<RateBps>,
    /// Price of egress per GB, non-negative.
    price_per_gb: Spanned<f64>,
    access_latency: Option<Spanned<DurationNs>>,
    counts: Vec<RawEdgeCount>,
}

/// Edge IDCs of one province.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawEdgeCount {
    province: Spanned<String>,
    /// ISP name -> number of edge IDCs.
    isps: BTreeMap<String, Spanned<i64>>,
}

// ----------------------------------------------------------- entry points

/// Reads, parses and resolves the topology file at `path`.
pub fn load_topology(path: &Path) -> Result<TopologyData, ScenarioError> {
    let (file, text) = crate::error::read_text(path)?;
    parse_topology(&file, &text)
}

/// Parses and resolves topology `text`; `file` labels error messages.
pub fn parse_topology(file: &str, text: &str) -> Result<TopologyData, ScenarioError> {
    let raw: RawTopology = crate::error::deserialize_located(file, text)?;
    Resolver { ctx: Ctx { file, text } }.resolve(raw)
}

// --------------------------------------------------------------- resolve

struct Resolver<'a> {
    ctx: Ctx<'a>,
}

type Res<T> = Result<T, ScenarioError>;

impl Resolver<'_> {
    fn err(&self, span: Range<usize>, field: impl Into<String>, message: impl Into<String>) -> ScenarioError {
        self.ctx.err(span, field, message)
    }

    /// Name -> index, refusing empty, malformed and duplicate names. Names
    /// make PoP and IDC names (`telecom.beijing`), so they are restricted
    /// to lower-case letters, digits, '-' and '_'.
    fn names<'a>(&self, items: impl Iterator<Item = &'a Spanned<String>>, list: &str) -> Res<BTreeMap<&'a str, usize>> {
        let mut names = BTreeMap::new();
        for (i, n) in items.enumerate() {
            let s = n.get_ref().as_str();
            if s.is_empty() || !s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_') {
                return Err(self.err(
                    n.span(),
                    format!("{list}[{i}].name"),
                    format!("expected a non-empty name of a-z, 0-9, '-' or '_', found {s:?}"),
                ));
            }
            if names.insert(s, i).is_some() {
                return Err(self.err(n.span(), format!("{list}[{i}].name"), format!("expected a unique name, found a second {s:?}")));
            }
        }
        Ok(names)
    }

    fn lookup(&self, names: &BTreeMap<&str, usize>, what: &str, value: &Spanned<String>, field: String) -> Res<usize> {
        self.ctx.lookup(names, what, value, field)
    }

    fn positive_rate(&self, v: &Spanned<RateBps>, field: String) -> Res<u64> {
        match v.get_ref().0 {
            0 => Err(self.err(v.span(), field, "expected a rate above zero, found zero")),
            x => Ok(x),
        }
    }

    fn positive_duration(&self, v: &Spanned<DurationNs>, field: String) -> Res<u64> {
        match v.get_ref().0 {
            0 => Err(self.err(v.span(), field, "expected a duration above zero, found zero")),
            x => Ok(x),
        }
    }

    fn inflation(&self, v: &Spanned<f64>, field: String) -> Res<f64> {
        let x = *v.get_ref();
        if !(x.is_finite() && x >= 1.0) {
            return Err(self.err(v.span(), field, format!("expected a factor of at least 1 (routes are never shorter than the great circle), found {x}")));
        }
        Ok(x)
    }

    fn price(&self, v: &Spanned<f64>, field: String) -> Res<f64> {
        let x = *v.get_ref();
        if !(x.is_finite() && x >= 0.0) {
            return Err(self.err(v.span(), field, format!("expected a non-negative price per GB, found {x}")));
        }
        Ok(x)
    }

    fn loss(&self, v: &Spanned<RawLoss>, field: String) -> Res<LinkLoss> {
        crate::loss::link_loss(v.get_ref()).map_err(|m| self.err(v.span(), field, m))
    }

    fn groups(&self, groups: &[Spanned<String>], field: &str) -> Res<Vec<String>> {
        if let Some(g) = groups.get(MAX_GROUPS_PER_LINK) {
            return Err(self.err(g.span(), field, format!("expected at most {MAX_GROUPS_PER_LINK} groups, found {}", groups.len())));
        }
        let mut out = Vec::with_capacity(groups.len());
        for (k, g) in groups.iter().enumerate() {
            if g.get_ref().is_empty() {
                return Err(self.err(g.span(), format!("{field}[{k}]"), "expected a non-empty group name"));
            }
            out.push(g.get_ref().clone());
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// ISP indices of a list, each named once and present in `province`.
    fn isps_at(
        &self,
        list: &[Spanned<String>],
        isp_names: &BTreeMap<&str, usize>,
        pop_of: &BTreeMap<(usize, usize), usize>,
        province: usize,
        province_name: &str,
        field: &str,
    ) -> Res<(Vec<usize>, Vec<usize>)> {
        let (mut isps, mut pops) = (Vec::with_capacity(list.len()), Vec::with_capacity(list.len()));
        for (k, n) in list.iter().enumerate() {
            let f = format!("{field}[{k}]");
            let isp = self.lookup(isp_names, "an ISP", n, f.clone())?;
            if isps.contains(&isp) {
                return Err(self.err(n.span(), f, format!("expected each ISP once, found a second {:?}", n.get_ref())));
            }
            let pop = pop_of.get(&(province, isp)).copied().ok_or_else(|| {
                self.err(n.span(), f.clone(), format!("expected an ISP with a PoP in {province_name}, found {:?}, which has none there", n.get_ref()))
            })?;
            isps.push(isp);
            pops.push(pop);
        }
        Ok((isps, pops))
    }

    fn resolve(&self, raw: RawTopology) -> Res<TopologyData> {
        let name = raw.topology.name.get_ref();
        if name.is_empty() {
            return Err(self.err(raw.topology.name.span(), "topology.name", "expected a non-empty name"));
        }
        let net = &raw.network;
        let propagation_km_per_ms = match &net.propagation_km_per_ms {
            Some(v) if v.get_ref().is_finite() && *v.get_ref() > 0.0 => *v.get_ref(),
            Some(v) => return Err(self.err(v.span(), "network.propagation_km_per_ms", format!("expected a positive speed, found {}", v.get_ref()))),
            None => DEFAULT_PROPAGATION_KM_PER_MS,
        };
        let route_inflation = match &net.route_inflation {
            Some(v) => self.inflation(v, "network.route_inflation".into())?,
            None => DEFAULT_ROUTE_INFLATION,
        };
        let min_latency_ns = match &net.min_latency {
            Some(v) => self.positive_duration(v, "network.min_latency".into())?,
            None => DEFAULT_MIN_LATENCY_NS,
        };
        let default_access_ns = match &net.access_latency {
            Some(v) => self.positive_duration(v, "network.access_latency".into())?,
            None => DEFAULT_ACCESS_LATENCY_NS,
        };

        // ISPs, areas, provinces.
        if raw.isps.is_empty() {
            return Err(self.err(0..0, "isps", "expected at least one [[isps]] entry, found none"));
        }
        if let Some(i) = raw.isps.get(MAX_ISPS) {
            return Err(self.err(i.name.span(), "isps", format!("expected at most {MAX_ISPS} ISPs, found {}", raw.isps.len())));
        }
        let isp_names = self.names(raw.isps.iter().map(|i| &i.name), "isps")?;
        let area_names = self.names(raw.areas.iter().map(|a| &a.name), "areas")?;
        if let Some(p) = raw.provinces.get(MAX_PROVINCES) {
            return Err(self.err(p.name.span(), "provinces", format!("expected at most {MAX_PROVINCES} provinces, found {}", raw.provinces.len())));
        }
        let province_names = self.names(raw.provinces.iter().map(|p| &p.name), "provinces")?;
        let mut provinces = Vec::with_capacity(raw.provinces.len());
        for (i, p) in raw.provinces.iter().enumerate() {
            let (lat, lon) = (*p.lat.get_ref(), *p.lon.get_ref());
            if !(-90.0..=90.0).contains(&lat) {
                return Err(self.err(p.lat.span(), format!("provinces[{i}].lat"), format!("expected degrees in [-90, 90], found {lat}")));
            }
            if !(-180.0..=180.0).contains(&lon) {
                return Err(self.err(p.lon.span(), format!("provinces[{i}].lon"), format!("expected degrees in [-180, 180], found {lon}")));
            }
            provinces.push(Province {
                name: p.name.get_ref().clone(),
                capital: p.capital.clone(),
                area: self.lookup(&area_names, "an area", &p.area, format!("provinces[{i}].area"))?,
                lat_deg: lat,
                lon_deg: lon,
                providers: {
                    let mut seen = BTreeSet::new();
                    let mut out = Vec::with_capacity(p.providers.len());
                    for (j, v) in p.providers.iter().enumerate() {
                        if !seen.insert(v.get_ref().as_str()) {
                            return Err(self.err(v.span(), format!("provinces[{i}].providers[{j}]"), format!("expected each provider once, found {:?} again", v.get_ref())));
                        }
                        out.push(v.get_ref().clone());
                    }
                    out
                },
            });
        }
        let mut areas = Vec::with_capacity(raw.areas.len());
        for (i, a) in raw.areas.iter().enumerate() {
            let field = format!("areas[{i}].hub");
            let hub = self.lookup(&province_names, "a province", &a.hub, field.clone())?;
            if provinces[hub].area != i {
                return Err(self.err(a.hub.span(), field, format!("expected a province of area {:?}, found {:?} (in {:?})", a.name.get_ref(), a.hub.get_ref(), raw.areas[provinces[hub].area].name.get_ref())));
            }
            areas.push(Area { name: a.name.get_ref().clone(), label: a.label.clone(), hub });
        }
        if let Some(i) = (0..areas.len()).find(|&i| !provinces.iter().any(|p| p.area == i)) {
            return Err(self.err(raw.areas[i].name.span(), format!("areas[{i}]"), "expected an area with at least one province, found none"));
        }

        // PoPs: where each ISP is present.
        let mut present = vec![vec![false; provinces.len()]; raw.isps.len()];
        for (i, isp) in raw.isps.iter().enumerate() {
            match &isp.provinces {
                None => present[i].iter_mut().for_each(|p| *p = true),
                Some(list) => {
                    for (k, n) in list.iter().enumerate() {
                        let f = format!("isps[{i}].provinces[{k}]");
                        let p = self.lookup(&province_names, "a province", n, f.clone())?;
                        if std::mem::replace(&mut present[i][p], true) {
                            return Err(self.err(n.span(), f, format!("expected each province once, found a second {:?}", n.get_ref())));
                        }
                    }
                }
            }
        }
        let mut pops = Vec::new();
        let mut pop_of = BTreeMap::new();
        for (p, province) in provinces.iter().enumerate() {
            for (i, isp) in raw.isps.iter().enumerate() {
                if present[i][p] {
                    pop_of.insert((p, i), pops.len());
                    pops.push(Pop { name: format!("{}.{}", isp.name.get_ref(), province.name), province: p, isp: i });
                }
            }
        }

        // Backbones.
        let mut links = Vec::new();
        let mut block_of_isp: BTreeMap<usize, usize> = BTreeMap::new();
        for (bi, bb) in raw.backbones.iter().enumerate() {
            let isp = self.lookup(&isp_names, "an ISP", &bb.isp, format!("backbones[{bi}].isp"))?;
            if let Some(first) = block_of_isp.insert(isp, bi) {
                return Err(self.err(bb.isp.span(), format!("backbones[{bi}].isp"), format!("expected one [[backbones]] block per ISP, found a second for {:?} (first: backbones[{first}])", bb.isp.get_ref())));
            }
            let isp_name = bb.isp.get_ref();
            let bandwidth_bps = self.positive_rate(&bb.bandwidth, format!("backbones[{bi}].bandwidth"))?;
            let loss = match &bb.loss {
                Some(v) => self.loss(v, format!("backbones[{bi}].loss"))?,
                None => LinkLoss::Bernoulli { p: 0.0 },
            };
            let inflation = match &bb.route_inflation {
                Some(v) => self.inflation(v, format!("backbones[{bi}].route_inflation"))?,
                None => route_inflation,
            };
            let mut pairs = BTreeMap::new();
            for (li, l) in bb.links.iter().enumerate() {
                let f = |x: &str| format!("backbones[{bi}].links[{li}].{x}");
                let end = |v: &Spanned<String>, field: String| -> Res<usize> {
                    let p = self.lookup(&province_names, "a province", v, field.clone())?;
                    pop_of.get(&(p, isp)).copied().ok_or_else(|| {
                        let here: Vec<&str> = (0..provinces.len()).filter(|&q| present[isp][q]).map(|q| provinces[q].name.as_str()).collect();
                        self.err(v.span(), field, format!("expected a province where {isp_name} has a PoP ({}), found {:?} (links join one ISP's PoPs; ISPs meet only at [[interconnects]])", here.join(", "), v.get_ref()))
                    })
                };
                let a = end(&l.a, f("a"))?;
                let b = end(&l.b, f("b"))?;
                if a == b {
                    return Err(self.err(l.b.span(), f("b"), "expected a province other than `a`, found the same"));
                }
                if let Some(first) = pairs.insert((a.min(b), a.max(b)), li) {
                    return Err(self.err(l.a.span(), format!("backbones[{bi}].links[{li}]"), format!("expected one link per pair of provinces, found a second (first: links[{first}])")));
                }
                if links.len() >= MAX_LINKS {
                    return Err(self.err(l.a.span(), format!("backbones[{bi}].links[{li}]"), format!("expected at most {MAX_LINKS} links in all")));
                }
                links.push(BackboneLink {
                    isp,
                    a,
                    b,
                    bandwidth_bps: match &l.bandwidth {
                        Some(v) => self.positive_rate(v, f("bandwidth"))?,
                        None => bandwidth_bps,
                    },
                    loss: match &l.loss {
                        Some(v) => self.loss(v, f("loss"))?,
                        None => loss,
                    },
                    route_inflation: match &l.route_inflation {
                        Some(v) => self.inflation(v, f("route_inflation"))?,
                        None => inflation,
                    },
                    latency_ns: match &l.latency {
                        Some(v) => Some(self.positive_duration(v, f("latency"))?),
                        None => None,
                    },
                    groups: self.groups(&l.groups, &f("groups"))?,
                    submarine: match &l.class {
                        None => false,
                        Some(c) => crate::ctx::one_of(LINK_CLASS_NAMES, c.get_ref()).map_err(|m| self.err(c.span(), f("class"), m))? == "submarine",
                    },
                });
            }
        }
        // Every ISP's backbone must join all its PoPs: a cut-off PoP would
        // silently push its IDCs' traffic through interconnects.
        for (i, isp) in raw.isps.iter().enumerate() {
            let mine: Vec<usize> = (0..pops.len()).filter(|&p| pops[p].isp == i).collect();
            let mut root: Vec<usize> = (0..pops.len()).collect();
            fn find(root: &mut [usize], mut x: usize) -> usize {
                while root[x] != x {
                    root[x] = root[root[x]];
                    x = root[x];
                }
                x
            }
            for l in links.iter().filter(|l| l.isp == i) {
                let (ra, rb) = (find(&mut root, l.a), find(&mut root, l.b));
                root[ra] = rb;
            }
            if let Some(&cut) = mine.iter().find(|&&p| find(&mut root, p) != find(&mut root, mine[0])) {
                let (span, field) = match block_of_isp.get(&i) {
                    Some(&bi) => (raw.backbones[bi].isp.span(), format!("backbones[{bi}].links")),
                    None => (isp.name.span(), format!("isps[{i}]")),
                };
                return Err(self.err(span, field, format!(
                    "expected {}'s backbone links to connect all its {} PoPs, found {} cut off from {}",
                    isp.name.get_ref(), mine.len(), provinces[pops[cut].province].name, provinces[pops[mine[0]].province].name
                )));
            }
        }

        // Interconnects.
        if let Some(ic) = raw.interconnects.get(MAX_INTERCONNECTS) {
            return Err(self.err(ic.name.span(), "interconnects", format!("expected at most {MAX_INTERCONNECTS} sites, found {}", raw.interconnects.len())));
        }
        self.names(raw.interconnects.iter().map(|s| &s.name), "interconnects")?;
        let mut interconnects = Vec::with_capacity(raw.interconnects.len());
        for (s, ic) in raw.interconnects.iter().enumerate() {
            let f = |x: &str| format!("interconnects[{s}].{x}");
            let province = self.lookup(&province_names, "a province", &ic.province, f("province"))?;
            let (isps, site_pops) = self.isps_at(ic.isps.get_ref(), &isp_names, &pop_of, province, ic.province.get_ref(), &f("isps"))?;
            if isps.len() < 2 {
                return Err(self.err(ic.isps.span(), f("isps"), format!("expected at least two ISPs to interconnect, found {}", isps.len())));
            }
            interconnects.push(Interconnect {
                name: ic.name.get_ref().clone(),
                province,
                isps,
                pops: site_pops,
                extra_latency_ns: ic.extra_latency.get_ref().0,
                capacity_bps: self.positive_rate(&ic.capacity, f("capacity"))?,
                loss: match &ic.loss {
                    Some(v) => self.loss(v, f("loss"))?,
                    None => LinkLoss::Bernoulli { p: 0.0 },
                },
                groups: self.groups(&ic.groups, &f("groups"))?,
            });
        }
        if raw.isps.len() > 1 {
            for (i, isp) in raw.isps.iter().enumerate() {
                if !interconnects.iter().any(|ic| ic.isps.contains(&i)) {
                    return Err(self.err(isp.name.span(), format!("isps[{i}]"), format!("expected every ISP to join at least one [[interconnects]] site, found {:?} in none (it could reach no other ISP)", isp.name.get_ref())));
                }
            }
        }

        // IDCs: explicit, then centres, then edges. Names are unique across
        // all three; a clash points at the entry that made the second one.
        let mut idcs: Vec<Idc> = Vec::new();
        let mut idc_names: BTreeSet<String> = BTreeSet::new();
        let mut add = |idc: Idc, span: Range<usize>, field: String| -> Res<()> {
            if idcs.len() >= MAX_IDCS {
                return Err(self.err(span, field, format!("expected at most {MAX_IDCS} IDCs in all")));
            }
            // Found by cdnsim-fuzz: an empty name passed here and was
            // refused by the backbone, with no line to point at.
            if idc.name.is_empty() {
                return Err(self.err(span, field, "expected a non-empty IDC name, found \"\""));
            }
            if !idc_names.insert(idc.name.clone()) {
                return Err(self.err(span, field, format!("expected unique IDC names, found a second {:?}", idc.name)));
            }
            idcs.push(idc);
            Ok(())
        };
        for (j, d) in raw.idcs.iter().enumerate() {
            let f = |x: &str| format!("idcs[{j}].{x}");
            let role = match self.ctx.one_of(&d.role, f("role"), ROLE_NAMES)? {
                "source" => IdcRole::Source,
                "centre" => IdcRole::Centre,
                "edge" => IdcRole::Edge,
                other => unreachable!("{other:?} is in ROLE_NAMES but has no role"),
            };
            let province = self.lookup(&province_names, "a province", &d.province, f("province"))?;
            let (isps, idc_pops) = self.isps_at(d.isps.get_ref(), &isp_names, &pop_of, province, d.province.get_ref(), &f("isps"))?;
            if isps.is_empty() {
                return Err(self.err(d.isps.span(), f("isps"), "expected at least one ISP, found none"));
            }
            let idc = Idc {
                name: d.name.get_ref().clone(),
                role,
                province,
                isps,
                pops: idc_pops,
                egress_bps: self.positive_rate(&d.egress, f("egress"))?,
                price_per_gb: self.price(&d.price_per_gb, f("price_per_gb"))?,
                access_latency_ns: match &d.access_latency {
                    Some(v) => self.positive_duration(v, f("access_latency"))?,
                    None => default_access_ns,
                },
            };
            add(idc, d.name.span(), f("name"))?;
        }
        if let Some(c) = &raw.centres {
            let (span, c) = (c.span(), c.get_ref());
            let egress_bps = self.positive_rate(&c.egress, "centres.egress".into())?;
            let price_per_gb = self.price(&c.price_per_gb, "centres.price_per_gb".into())?;
            let access_latency_ns = match &c.access_latency {
                Some(v) => self.positive_duration(v, "centres.access_latency".into())?,
                None => default_access_ns,
            };
            for area in &areas {
                let hub_name = &provinces[area.hub].name;
                let (isps, hub_pops) = self.isps_at(&c.isps, &isp_names, &pop_of, area.hub, hub_name, "centres.isps")?;
                for (&isp, &pop) in isps.iter().zip(&hub_pops) {
                    let idc = Idc {
                        name: format!("centre.{}.{}", area.name, raw.isps[isp].name.get_ref()),
                        role: IdcRole::Centre,
                        province: area.hub,
                        isps: vec![isp],
                        pops: vec![pop],
                        egress_bps,
                        price_per_gb,
                        access_latency_ns,
                    };
                    add(idc, span.clone(), "centres".into())?;
                }
            }
        }
        if let Some(e) = &raw.edges {
            let egress_bps = self.positive_rate(&e.egress, "edges.egress".into())?;
            let price_per_gb = self.price(&e.price_per_gb, "edges.price_per_gb".into())?;
            let access_latency_ns = match &e.access_latency {
                Some(v) => self.positive_duration(v, "edges.access_latency".into())?,
                None => default_access_ns,
            };
            let mut seen = BTreeMap::new();
            for (k, entry) in e.counts.iter().enumerate() {
                let f = format!("edges.counts[{k}]");
                let province = self.lookup(&province_names, "a province", &entry.province, format!("{f}.province"))?;
                if let Some(first) = seen.insert(province, k) {
                    return Err(self.err(entry.province.span(), format!("{f}.province"), format!("expected one entry per province, found a second for {:?} (first: edges.counts[{first}])", entry.province.get_ref())));
                }
                // In ISP order, not the map's name order, so IDCs of one
                // province are listed like its PoPs.
                let mut per_isp = Vec::with_capacity(entry.isps.len());
                for (isp_name, n) in &entry.isps {
                    let field = format!("{f}.isps.{isp_name}");
                    let isp = *isp_names.get(isp_name.as_str()).ok_or_else(|| {
                        let known: Vec<&str> = isp_names.keys().copied().collect();
                        self.err(n.span(), field.clone(), format!("expected the name of an ISP ({}), found {isp_name:?}", known.join(", ")))
                    })?;
                    let count = *n.get_ref();
                    if !(0..=MAX_EDGES_PER_ENTRY).contains(&count) {
                        return Err(self.err(n.span(), field, format!("expected a count from 0 to {MAX_EDGES_PER_ENTRY}, found {count}")));
                    }
                    let pop = pop_of.get(&(province, isp)).copied();
                    if count > 0 && pop.is_none() {
                        return Err(self.err(n.span(), field, format!("expected an ISP with a PoP in {}, found {isp_name:?}, which has none there", entry.province.get_ref())));
                    }
                    per_isp.push((isp, pop, count, n.span()));
                }
                per_isp.sort_by_key(|x| x.0);
                for (isp, pop, count, span) in per_isp {
                    for n in 1..=count {
                        let idc = Idc {
                            name: format!("edge.{}.{}.{n}", provinces[province].name, raw.isps[isp].name.get_ref()),
                            role: IdcRole::Edge,
                            province,
                            isps: vec![isp],
                            pops: vec![pop.expect("checked above")],
                            egress_bps,
                            price_per_gb,
                            access_latency_ns,
                        };
                        add(idc, span.clone(), format!("{f}.isps.{}", raw.isps[isp].name.get_ref()))?;
                    }
                }
            }
        }

        Ok(TopologyData {
            name: name.clone(),
            description: raw.topology.description.clone(),
            propagation_km_per_ms,
            route_inflation,
            min_latency_ns,
            isps: raw.isps.iter().map(|i| Isp { name: i.name.get_ref().clone(), label: i.label.clone() }).collect(),
            areas,
            provinces,
            pops,
            links,
            interconnects,
            idcs,
        })
    }
}

// ------------------------------------------------------------- backbone

/// The net crate's loss model for a scenario loss.
pub fn loss_model(l: LinkLoss) -> LossModel {
    match l {
        LinkLoss::Bernoulli { p } => LossModel::Bernoulli { p },
        LinkLoss::GilbertElliott { p_good_to_bad, p_bad_to_good, loss_good, loss_bad } => {
            LossModel::GilbertElliott { p_good_to_bad, p_bad_to_good, loss_good, loss_bad }
        }
    }
}

impl TopologyData {
    /// The backbone's input: indices carry over, units are already base.
    pub fn backbone_input(&self) -> BackboneInput {
        backbone_input(self)
    }
}

fn backbone_input(t: &TopologyData) -> BackboneInput {
    BackboneInput {
        propagation_km_per_ms: t.propagation_km_per_ms,
        min_latency_ns: t.min_latency_ns,
        interconnect_route_inflation: t.route_inflation,
        isps: t.isps.iter().map(|i| i.name.clone()).collect(),
        regions: t.provinces.iter().map(|p| p.name.clone()).collect(),
        pops: t
            .pops
            .iter()
            .map(|p| PopSpec {
                region: p.province,
                isp: p.isp,
                lat_deg: t.provinces[p.province].lat_deg,
                lon_deg: t.provinces[p.province].lon_deg,
            })
            .collect(),
        links: t
            .links
            .iter()
            .map(|l| LinkSpec {
                a: l.a,
                b: l.b,
                capacity_bps: l.bandwidth_bps,
                loss: loss_model(l.loss),
                route_inflation: l.route_inflation,
                latency_ns: l.latency_ns,
                groups: l.groups.clone(),
            })
            .collect(),
        interconnects: t
            .interconnects
            .iter()
            .map(|ic| InterconnectSpec {
                name: ic.name.clone(),
                pops: ic.pops.clone(),
                extra_latency_ns: ic.extra_latency_ns,
                capacity_bps: ic.capacity_bps,
                loss: loss_model(ic.loss),
                groups: ic.groups.clone(),
            })
            .collect(),
        idcs: t
            .idcs
            .iter()
            .map(|d| IdcSpec {
                name: d.name.clone(),
                region: d.province,
                pops: d.pops.clone(),
                egress_bps: d.egress_bps,
                price_per_gb: d.price_per_gb,
                access_latency_ns: d.access_latency_ns,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHINA: &str = include_str!("../../../scenarios/topologies/china.toml");

    fn with(from: &str, to: &str) -> Result<TopologyData, ScenarioError> {
        assert_eq!(CHINA.matches(from).count(), 1, "{from}");
        parse_topology("china.toml", &CHINA.replacen(from, to, 1))
    }

    /// The error text, checked to be located at `line` of the edited file.
    fn err_at(from: &str, to: &str) -> (String, usize) {
        match with(from, to).unwrap_err() {
            e @ ScenarioError::Invalid { line, .. } => (e.to_string(), line),
            e => panic!("{e}"),
        }
    }

    fn line_of(text: &str, needle: &str) -> usize {
        text[..text.find(needle).unwrap()].matches('\n').count() + 1
    }

    #[test]
    fn china_resolves_with_the_expected_counts() {
        let t = parse_topology("china.toml", CHINA).unwrap();
        assert_eq!(t.provinces.len(), 31);
        assert_eq!(t.areas.len(), 7);
        assert!(t.isps.len() >= 3);
        for big in ["telecom", "unicom", "mobile"] {
            let i = t.isp_index(big).unwrap();
            assert!((0..31).all(|p| t.pop(p, i).is_some()), "{big} is in every province");
        }
        assert_eq!(t.interconnects.len(), 3);
        let sites: Vec<&str> = t.interconnects.iter().map(|i| t.provinces[i.province].name.as_str()).collect();
        assert_eq!(sites, ["beijing", "shanghai", "guangdong"]);
        assert!((480..=520).contains(&t.idcs.len()), "{}", t.idcs.len());
        let role = |r| t.idcs.iter().filter(|d| d.role == r).count();
        assert_eq!((role(IdcRole::Source), role(IdcRole::Centre)), (3, 21));
        assert!(t.idcs.iter().filter(|d| d.role == IdcRole::Source).all(|d| d.isps.len() >= 2), "sources are multi-line BGP");
        let jhg: Vec<&BackboneLink> = t.links.iter().filter(|l| l.groups.iter().any(|g| g == "telecom.jing-han-guang")).collect();
        assert!(jhg.len() >= 3 && jhg.iter().all(|l| t.isps[l.isp].name == "telecom"));
        let d = t.idcs.iter().find(|d| d.name == "edge.guangdong.telecom.1").unwrap();
        assert_eq!(t.pops[d.pops[0]].name, "telecom.guangdong");
    }

    #[test]
    fn china_interconnects_are_within_reference_estimates() {
        // docs/references.md, Cross-ISP penalty: +5-30 ms and 0.5-3%
        // evening loss (est.).
        let t = parse_topology("china.toml", CHINA).unwrap();
        for ic in &t.interconnects {
            let ms = ic.extra_latency_ns as f64 / 1e6;
            assert!((5.0..=30.0).contains(&ms), "{}: {ms} ms", ic.name);
            let mean = match ic.loss {
                LinkLoss::Bernoulli { p } => p,
                LinkLoss::GilbertElliott { p_good_to_bad, p_bad_to_good, loss_good, loss_bad } => {
                    let bad = p_good_to_bad / (p_good_to_bad + p_bad_to_good);
                    (1.0 - bad) * loss_good + bad * loss_bad
                }
            };
            assert!((0.005..=0.03).contains(&mean), "{}: {mean}", ic.name);
        }
    }

    #[test]
    fn unknown_province_in_a_link_is_located() {
        let from = "{ a = \"shaanxi\", b = \"sichuan\" },";
        let (e, line) = err_at(from, "{ a = \"shanxii\", b = \"sichuan\" },");
        assert!(e.contains("backbones[4].links[9].a") && e.contains("\"shanxii\"") && e.contains("a province"), "{e}");
        assert_eq!(line, line_of(CHINA, from));
    }

    #[test]
    fn a_link_to_a_province_without_the_isp_is_refused() {
        let from = "{ a = \"hubei\", b = \"sichuan\" },";
        let (e, line) = err_at(from, "{ a = \"hubei\", b = \"xizang\" },");
        assert!(e.contains("backbones[3].links[4].b") && e.contains("drpeng has a PoP") && e.contains("interconnects"), "{e}");
        assert_eq!(line, line_of(CHINA, from));
    }

    #[test]
    fn interconnect_with_an_absent_or_unknown_isp_is_refused() {
        // The sources in Shanghai are on the same five ISPs: the name makes it the interconnect.
        let from = "name = \"shanghai\"\nprovince = \"shanghai\"\nisps = [\"telecom\", \"unicom\", \"mobile\", \"drpeng\", \"cernet\"]";
        let e = with(from, "name = \"shanghai\"\nprovince = \"xizang\"\nisps = [\"telecom\", \"unicom\", \"mobile\", \"drpeng\", \"cernet\"]").unwrap_err().to_string();
        assert!(e.contains("interconnects[1].isps[3]") && e.contains("PoP in xizang"), "{e}");
        let e = with(from, "name = \"shanghai\"\nprovince = \"shanghai\"\nisps = [\"telecom\", \"unicorn\"]").unwrap_err().to_string();
        assert!(e.contains("interconnects[1].isps[1]") && e.contains("\"unicorn\""), "{e}");
    }

    #[test]
    fn duplicate_names_are_refused() {
        let e = with("name = \"tianjin\"", "name = \"beijing\"").unwrap_err().to_string();
        assert!(e.contains("provinces[1].name") && e.contains("unique"), "{e}");
        let e = with("name = \"source.shanghai\"", "name = \"source.beijing\"").unwrap_err().to_string();
        assert!(e.contains("idcs[1].name") && e.contains("unique IDC names"), "{e}");
        // Found by cdnsim-fuzz: refused by the backbone, not here, so the
        // message had no line of this file.
        let (e, line) = err_at("name = \"source.shanghai\"", "name = \"\"");
        assert!(e.contains("idcs[1].name") && e.contains("non-empty IDC name"), "{e}");
        assert_eq!(line, line_of(CHINA, "name = \"source.shanghai\""));
    }

    #[test]
    fn serde_errors_name_the_field_and_place() {
        let (e, line) = err_at("extra_latency = \"12 ms\"", "extra_latency = \"12 parsecs\"");
        assert!(e.contains("interconnects[1].extra_latency: expected a duration"), "{e}");
        assert_eq!(line, line_of(CHINA, "extra_latency = \"12 ms\""));
        let e = with("capital = \"Lhasa\"", "capitol = \"Lhasa\"").unwrap_err().to_string();
        assert!(e.contains("provinces[25]") && e.contains("capitol"), "{e}");
    }

    #[test]
    fn edge_counts_are_checked() {
        let from = "{ province = \"xizang\", isps = { telecom = 1, unicom = 1, mobile = 1 } },";
        let e = with(from, "{ province = \"xizang\", isps = { telecom = 1, drpeng = 2 } },").unwrap_err().to_string();
        assert!(e.contains("edges.counts[25].isps.drpeng") && e.contains("PoP in xizang"), "{e}");
        let e = with(from, "{ province = \"beijing\", isps = { telecom = 1 } },").unwrap_err().to_string();
        assert!(e.contains("edges.counts[25].province") && e.contains("one entry per province"), "{e}");
        let e = with(from, "{ province = \"xizang\", isps = { telecom = -1 } },").unwrap_err().to_string();
        assert!(e.contains("edges.counts[25].isps.telecom") && e.contains("count"), "{e}");
    }

    #[test]
    fn a_cut_off_pop_is_refused() {
        let e = with("  { a = \"beijing\", b = \"liaoning\" },\n]\n\n# CERNET", "]\n\n# CERNET").unwrap_err().to_string();
        assert!(e.contains("backbones[3].links") && e.contains("drpeng") && e.contains("liaoning cut off"), "{e}");
    }
}
