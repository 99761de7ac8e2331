//! The built backbone: validated input, link latencies, the petgraph graph,
//! link state and shared-risk groups. Path queries are in `paths`.

use std::collections::{BTreeMap, BTreeSet};

use petgraph::graph::{NodeIndex, UnGraph};

use super::ids::{Endpoint, GroupId, IdcId, InterconnectId, IspId, LinkId, PopId, RegionId};
use super::input::{
    BackboneInput, MAX_BACKBONE_LINKS, MAX_GROUPS_PER_LINK, MAX_IDCS, MAX_INTERCONNECTS, MAX_ISPS, MAX_POPS, MAX_REGIONS,
};
use super::tree::Cache;
use crate::geo::{great_circle_km, propagation};
use crate::loss::LossModel;
use crate::param::{ParamError, require};

/// A PoP of the built backbone.
#[derive(Clone, Debug, PartialEq)]
pub struct Pop {
    pub region: RegionId,
    pub isp: IspId,
    pub lat_deg: f64,
    pub lon_deg: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkKind {
    /// Inside one ISP, between two of its PoPs.
    Backbone { isp: IspId },
    /// Between two ISPs' PoPs at an interconnect site.
    Interconnect { site: InterconnectId },
    /// Between an IDC and one of its PoPs.
    Access { idc: IdcId },
}

/// A full-duplex link; both directions have the same latency and capacity.
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    pub a: Endpoint,
    pub b: Endpoint,
    pub kind: LinkKind,
    /// One-way latency.
    pub latency_ns: u64,
    pub capacity_bps: u64,
    pub loss: LossModel,
    /// Great-circle distance between the ends (0 for access links).
    pub distance_km: f64,
    pub groups: Vec<GroupId>,
}

impl Link {
    /// The end that is not `end` (`a` when `end` is neither).
    pub fn other(&self, end: Endpoint) -> Endpoint {
        if end == self.a { self.b } else { self.a }
    }

    pub fn is_interconnect(&self) -> bool {
        matches!(self.kind, LinkKind::Interconnect { .. })
    }
}

/// How an IDC reaches one of its PoPs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attachment {
    pub pop: PopId,
    pub isp: IspId,
    pub link: LinkId,
    pub latency_ns: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Idc {
    pub name: String,
    pub region: RegionId,
    /// Sorted by ISP, one per ISP; more than one means multi-line BGP.
    pub attachments: Vec<Attachment>,
    pub egress_bps: u64,
    pub price_per_gb: f64,
}

impl Idc {
    pub fn is_multi_line(&self) -> bool {
        self.attachments.len() > 1
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Interconnect {
    pub name: String,
    pub pops: Vec<PopId>,
    /// One link per pair of `pops`.
    pub links: Vec<LinkId>,
}

/// The backbone graph with its path cache. Build it with [`Backbone::new`].
/// Cloning copies the cache too, so a clone answers without searching.
#[derive(Clone)]
pub struct Backbone {
    pub(super) isps: Vec<String>,
    regions: Vec<String>,
    pub(super) pops: Vec<Pop>,
    pop_by_place: BTreeMap<(RegionId, IspId), PopId>,
    pub(super) idcs: Vec<Idc>,
    interconnects: Vec<Interconnect>,
    pub(super) links: Vec<Link>,
    pub(super) up: Vec<bool>,
    groups: Vec<(String, Vec<LinkId>)>,
    group_ids: BTreeMap<String, GroupId>,
    /// Node `i < pops.len()` is PoP `i`; node `pops.len() + j` is IDC `j`.
    /// Edge weights are link ids.
    pub(super) graph: UnGraph<(), LinkId>,
    pub(super) cache: Cache,
}

fn count(len: usize, max: usize, what: &str) -> Result<(), ParamError> {
    require(len <= max, what, &format!("at most {max} entries"), len)
}

fn index(i: usize, len: usize, param: String, what: &str) -> Result<(), ParamError> {
    require(i < len, &param, &format!("the index of a {what} (below {len})"), i)
}

fn unique_names<'a>(names: impl Iterator<Item = &'a str>, list: &str) -> Result<(), ParamError> {
    let mut seen = BTreeSet::new();
    for (i, n) in names.enumerate() {
        require(!n.is_empty(), &format!("{list}[{i}]"), "a non-empty name", "\"\"")?;
        require(seen.insert(n), &format!("{list}[{i}]"), "a unique name", format!("a second {n:?}"))?;
    }
    Ok(())
}

fn check_loss(loss: &LossModel, param: String) -> Result<(), ParamError> {
    loss.validate().map_err(|e| ParamError::new(param, "a valid loss model", e))
}

impl Backbone {
    /// Validates `input` and builds the graph. Every index, name and number
    /// is checked; the error names the offending field.
    pub fn new(input: BackboneInput) -> Result<Self, ParamError> {
        let km_per_ms = input.propagation_km_per_ms;
        require(km_per_ms.is_finite() && km_per_ms > 0.0, "propagation_km_per_ms", "a positive speed", km_per_ms)?;
        require(input.min_latency_ns >= 1, "min_latency_ns", "at least 1 ns", input.min_latency_ns)?;
        let ic_inflation = input.interconnect_route_inflation;
        require(ic_inflation.is_finite() && ic_inflation >= 1.0, "interconnect_route_inflation", "a factor >= 1", ic_inflation)?;
        count(input.isps.len(), MAX_ISPS, "isps")?;
        count(input.regions.len(), MAX_REGIONS, "regions")?;
        count(input.pops.len(), MAX_POPS, "pops")?;
        count(input.links.len(), MAX_BACKBONE_LINKS, "links")?;
        count(input.interconnects.len(), MAX_INTERCONNECTS, "interconnects")?;
        count(input.idcs.len(), MAX_IDCS, "idcs")?;
        unique_names(input.isps.iter().map(String::as_str), "isps")?;
        unique_names(input.regions.iter().map(String::as_str), "regions")?;
        unique_names(input.interconnects.iter().map(|s| s.name.as_str()), "interconnects")?;
        unique_names(input.idcs.iter().map(|s| s.name.as_str()), "idcs")?;

        let mut pops = Vec::with_capacity(input.pops.len());
        let mut pop_by_place = BTreeMap::new();
        for (i, p) in input.pops.iter().enumerate() {
            index(p.region, input.regions.len(), format!("pops[{i}].region"), "region")?;
            index(p.isp, input.isps.len(), format!("pops[{i}].isp"), "ISP")?;
            require((-90.0..=90.0).contains(&p.lat_deg), &format!("pops[{i}].lat_deg"), "degrees in [-90, 90]", p.lat_deg)?;
            require((-180.0..=180.0).contains(&p.lon_deg), &format!("pops[{i}].lon_deg"), "degrees in [-180, 180]", p.lon_deg)?;
            let place = (RegionId(p.region as u32), IspId(p.isp as u32));
            if let Some(first) = pop_by_place.insert(place, PopId(i as u32)) {
                return Err(ParamError::new(
                    format!("pops[{i}]"),
                    "one PoP per (region, ISP)",
                    format!("a second PoP of {} in {} (first: pops[{}])", input.isps[p.isp], input.regions[p.region], first.0),
                ));
            }
            pops.push(Pop { region: place.0, isp: place.1, lat_deg: p.lat_deg, lon_deg: p.lon_deg });
        }
        let distance = |a: usize, b: usize| {
            great_circle_km(pops[a].lat_deg, pops[a].lon_deg, pops[b].lat_deg, pops[b].lon_deg)
        };
        let derived = |km: f64, inflation: f64| {
            propagation(km, inflation, km_per_ms).as_ns().max(input.min_latency_ns)
        };

        let mut links = Vec::new();
        let mut group_names: Vec<(&str, usize)> = Vec::new();
        let mut pairs = BTreeSet::new();
        for (i, l) in input.links.iter().enumerate() {
            let f = |field: &str| format!("links[{i}].{field}");
            index(l.a, pops.len(), f("a"), "PoP")?;
            index(l.b, pops.len(), f("b"), "PoP")?;
            require(l.a != l.b, &f("b"), "a PoP other than `a`", l.b)?;
            let isp = pops[l.a].isp;
            require(
                pops[l.b].isp == isp,
                &f("b"),
                &format!("a PoP of {} like `a` (ISPs meet only at interconnects)", input.isps[isp.index()]),
                format!("a PoP of {}", input.isps[pops[l.b].isp.index()]),
            )?;
            require(pairs.insert((l.a.min(l.b), l.a.max(l.b))), &format!("links[{i}]"), "one link per pair of PoPs", "a second link")?;
            require(l.capacity_bps > 0, &f("capacity_bps"), "a positive capacity", 0)?;
            check_loss(&l.loss, f("loss"))?;
            require(l.route_inflation.is_finite() && l.route_inflation >= 1.0, &f("route_inflation"), "a factor >= 1", l.route_inflation)?;
            if let Some(ns) = l.latency_ns {
                require(ns >= 1, &f("latency_ns"), "at least 1 ns", ns)?;
            }
            check_groups(&l.groups, &f("groups"))?;
            let km = distance(l.a, l.b);
            links.push(Link {
                a: Endpoint::Pop(PopId(l.a as u32)),
                b: Endpoint::Pop(PopId(l.b as u32)),
                kind: LinkKind::Backbone { isp },
                latency_ns: l.latency_ns.unwrap_or_else(|| derived(km, l.route_inflation)),
                capacity_bps: l.capacity_bps,
                loss: l.loss,
                distance_km: km,
                groups: Vec::new(),
            });
            group_names.extend(l.groups.iter().map(|g| (g.as_str(), links.len() - 1)));
        }

        let mut interconnects = Vec::with_capacity(input.interconnects.len());
        for (s, ic) in input.interconnects.iter().enumerate() {
            let f = |field: &str| format!("interconnects[{s}].{field}");
            require(ic.pops.len() >= 2, &f("pops"), "at least two PoPs of different ISPs", ic.pops.len())?;
            count(ic.pops.len(), MAX_ISPS, &f("pops"))?;
            let mut isps_seen = BTreeSet::new();
            for (k, &p) in ic.pops.iter().enumerate() {
                index(p, pops.len(), f(&format!("pops[{k}]")), "PoP")?;
                require(isps_seen.insert(pops[p].isp), &f(&format!("pops[{k}]")), "PoPs of different ISPs", "a second PoP of one ISP")?;
            }
            require(ic.capacity_bps > 0, &f("capacity_bps"), "a positive capacity", 0)?;
            check_loss(&ic.loss, f("loss"))?;
            check_groups(&ic.groups, &f("groups"))?;
            let site = InterconnectId(s as u32);
            let mut site_links = Vec::new();
            for (k, &a) in ic.pops.iter().enumerate() {
                for &b in &ic.pops[k + 1..] {
                    let km = distance(a, b);
                    site_links.push(LinkId(links.len() as u32));
                    links.push(Link {
                        a: Endpoint::Pop(PopId(a as u32)),
                        b: Endpoint::Pop(PopId(b as u32)),
                        kind: LinkKind::Interconnect { site },
                        latency_ns: derived(km, ic_inflation).saturating_add(ic.extra_latency_ns),
                        capacity_bps: ic.capacity_bps,
                        loss: ic.loss,
                        distance_km: km,
                        groups: Vec::new(),
                    });
                    group_names.extend(ic.groups.iter().map(|g| (g.as_str(), links.len() - 1)));
                }
            }
            interconnects.push(Interconnect {
                name: ic.name.clone(),
                pops: ic.pops.iter().map(|&p| PopId(p as u32)).collect(),
                links: site_links,
            });
        }

        let mut idcs = Vec::with_capacity(input.idcs.len());
        for (j, d) in input.idcs.iter().enumerate() {
            let f = |field: &str| format!("idcs[{j}].{field}");
            index(d.region, input.regions.len(), f("region"), "region")?;
            require(!d.pops.is_empty(), &f("pops"), "at least one PoP", "none")?;
            count(d.pops.len(), MAX_ISPS, &f("pops"))?;
            require(d.egress_bps > 0, &f("egress_bps"), "a positive capacity", 0)?;
            require(d.price_per_gb.is_finite() && d.price_per_gb >= 0.0, &f("price_per_gb"), "a non-negative price", d.price_per_gb)?;
            require(d.access_latency_ns >= 1, &f("access_latency_ns"), "at least 1 ns", d.access_latency_ns)?;
            let idc = IdcId(j as u32);
            let mut attachments = Vec::with_capacity(d.pops.len());
            for (k, &p) in d.pops.iter().enumerate() {
                let field = f(&format!("pops[{k}]"));
                index(p, pops.len(), field.clone(), "PoP")?;
                require(
                    pops[p].region.index() == d.region,
                    &field,
                    &format!("a PoP in the IDC's region {}", input.regions[d.region]),
                    format!("a PoP in {}", input.regions[pops[p].region.index()]),
                )?;
                require(attachments.iter().all(|a: &Attachment| a.isp != pops[p].isp), &field, "PoPs of different ISPs", "a second PoP of one ISP")?;
                attachments.push(Attachment {
                    pop: PopId(p as u32),
                    isp: pops[p].isp,
                    link: LinkId(links.len() as u32),
                    latency_ns: d.access_latency_ns,
                });
                links.push(Link {
                    a: Endpoint::Idc(idc),
                    b: Endpoint::Pop(PopId(p as u32)),
                    kind: LinkKind::Access { idc },
                    latency_ns: d.access_latency_ns,
                    capacity_bps: d.egress_bps,
                    loss: LossModel::NONE,
                    distance_km: 0.0,
                    groups: Vec::new(),
                });
            }
            attachments.sort_by_key(|a| a.isp);
            idcs.push(Idc {
                name: d.name.clone(),
                region: RegionId(d.region as u32),
                attachments,
                egress_bps: d.egress_bps,
                price_per_gb: d.price_per_gb,
            });
        }
        // u32::MAX marks "no link" in the path trees.
        require(links.len() < u32::MAX as usize, "links", "fewer than 2^32 - 1 links in all", links.len())?;

        let mut groups: Vec<(String, Vec<LinkId>)> = Vec::new();
        let mut group_ids = BTreeMap::new();
        for (name, l) in group_names {
            let g = *group_ids.entry(name.to_string()).or_insert_with(|| {
                groups.push((name.to_string(), Vec::new()));
                GroupId(groups.len() as u32 - 1)
            });
            let link = LinkId(l as u32);
            // A link listing a group twice is in it once.
            if groups[g.index()].1.last() != Some(&link) {
                groups[g.index()].1.push(link);
                links[l].groups.push(g);
            }
        }

        let mut graph = UnGraph::with_capacity(pops.len() + idcs.len(), links.len());
        for _ in 0..pops.len() + idcs.len() {
            graph.add_node(());
        }
        let p = pops.len();
        let node = |e: Endpoint| match e {
            Endpoint::Pop(x) => NodeIndex::new(x.index()),
            Endpoint::Idc(x) => NodeIndex::new(p + x.index()),
        };
        for (i, l) in links.iter().enumerate() {
            graph.add_edge(node(l.a), node(l.b), LinkId(i as u32));
        }

        let up = vec![true; links.len()];
        let cache = Cache::new(pops.len());
        Ok(Backbone {
            isps: input.isps,
            regions: input.regions,
            pops,
            pop_by_place,
            idcs,
            interconnects,
            links,
            up,
            groups,
            group_ids,
            graph,
            cache,
        })
    }

    pub fn isps(&self) -> &[String] {
        &self.isps
    }

    pub fn isp_id(&self, name: &str) -> Option<IspId> {
        self.isps.iter().position(|n| n == name).map(|i| IspId(i as u32))
    }

    pub fn regions(&self) -> &[String] {
        &self.regions
    }

    pub fn region_id(&self, name: &str) -> Option<RegionId> {
        self.regions.iter().position(|n| n == name).map(|i| RegionId(i as u32))
    }

    pub fn pops(&self) -> &[Pop] {
        &self.pops
    }

    pub fn pop(&self, id: PopId) -> &Pop {
        &self.pops[id.index()]
    }

    /// The PoP of `isp` in `region`, if it has one.
    pub fn pop_at(&self, region: RegionId, isp: IspId) -> Option<PopId> {
        self.pop_by_place.get(&(region, isp)).copied()
    }

    pub fn idcs(&self) -> &[Idc] {
        &self.idcs
    }

    pub fn idc(&self, id: IdcId) -> &Idc {
        &self.idcs[id.index()]
    }

    pub fn interconnects(&self) -> &[Interconnect] {
        &self.interconnects
    }

    pub fn links(&self) -> &[Link] {
        &self.links
    }

    pub fn link(&self, id: LinkId) -> &Link {
        &self.links[id.index()]
    }

    pub fn is_up(&self, id: LinkId) -> bool {
        self.up[id.index()]
    }

    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    pub fn group_id(&self, name: &str) -> Option<GroupId> {
        self.group_ids.get(name).copied()
    }

    pub fn group_name(&self, id: GroupId) -> &str {
        &self.groups[id.index()].0
    }

    /// The links of a shared-risk group, in link order.
    pub fn group_links(&self, id: GroupId) -> &[LinkId] {
        &self.groups[id.index()].1
    }

    /// The ISPs an endpoint is on: a PoP's own, an IDC's attachments'.
    pub fn endpoint_isps(&self, e: Endpoint) -> Vec<IspId> {
        match e {
            Endpoint::Pop(p) => vec![self.pops[p.index()].isp],
            Endpoint::Idc(d) => self.idcs[d.index()].attachments.iter().map(|a| a.isp).collect(),
        }
    }

    /// The graph: PoPs then IDCs as nodes ([`Backbone::node_index`]), one
    /// undirected edge per link weighted by its [`LinkId`].
    pub fn graph(&self) -> &UnGraph<(), LinkId> {
        &self.graph
    }

    pub fn node_index(&self, e: Endpoint) -> NodeIndex {
        match e {
            Endpoint::Pop(p) => NodeIndex::new(p.index()),
            Endpoint::Idc(d) => NodeIndex::new(self.pops.len() + d.index()),
        }
    }

    pub fn endpoint(&self, n: NodeIndex) -> Endpoint {
        match n.index().checked_sub(self.pops.len()) {
            None => Endpoint::Pop(PopId(n.index() as u32)),
            Some(j) => Endpoint::Idc(IdcId(j as u32)),
        }
    }
}

fn check_groups(groups: &[String], param: &str) -> Result<(), ParamError> {
    count(groups.len(), MAX_GROUPS_PER_LINK, param)?;
    for (k, g) in groups.iter().enumerate() {
        require(!g.is_empty(), &format!("{param}[{k}]"), "a non-empty group name", "\"\"")?;
    }
    Ok(())
}
