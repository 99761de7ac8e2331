//! A seeded synthetic global transport network, for scale and property
//! tests of the edge model's transport (issue 15): cloud regions on six
//! continents with coordinates and cloud providers, terrestrial links
//! inside a continent, submarine cables between continents, each cable a
//! shared-risk group. The same shape as `scenarios/topologies/global.toml`,
//! and [`GlobalTopology::to_toml`] writes it in that file's format, so the
//! topology parser reads a generated network exactly as it reads the
//! bundled one.
//!
//! Each part draws from its own named stream (`transport.synth.*`):
//! continents, coordinates, providers, landings and cables. Changing how cables land
//! leaves the regions where they were, and the providers move nothing
//! else.
//!
//! Latency is the great-circle distance times a route factor (1.5 on
//! land, 1.3 under the sea) at a fibre speed of 200 km/ms
//! (docs/references.md, Fibre propagation), floored at `min_latency_ns`:
//! the rule of `global.toml` (docs/references.md, Global cloud regions).

use std::collections::BTreeSet;

use cdnsim_engine::stream;
use rand::Rng;
use rand::seq::SliceRandom;

use crate::geo::{great_circle_km, propagation};
use crate::param::{ParamError, require};

/// Most regions a generated network has (names carry three digits).
pub const MAX_GLOBAL_REGIONS: usize = 1000;
/// Most terrestrial links a region asks for to its nearest neighbours.
pub const MAX_NEAREST: usize = 8;
/// Most landing pairs (region links) of one cable.
pub const MAX_CABLE_LANDINGS: usize = 8;
/// Most cable landing regions of one continent.
pub const MAX_LANDING_REGIONS: usize = 8;

/// A continent: where its regions may lie and its share of them.
#[derive(Clone, Copy, Debug)]
pub struct Continent {
    pub name: &'static str,
    /// Prefix of its regions' names.
    pub short: &'static str,
    pub label: &'static str,
    pub lat_deg: (f64, f64),
    pub lon_deg: (f64, f64),
    /// Relative share of the regions (est.: about the providers' region
    /// counts per continent).
    pub weight: f64,
}

/// The continents, in the order the first six regions take them (one
/// each), so a small network already has every continent. Boxes roughly
/// over each continent's populated land (est.).
pub const CONTINENTS: [Continent; 6] = [
    Continent { name: "north_america", short: "na", label: "North America", lat_deg: (25.0, 50.0), lon_deg: (-123.0, -70.0), weight: 0.25 },
    Continent { name: "europe", short: "eu", label: "Europe", lat_deg: (38.0, 60.0), lon_deg: (-9.0, 30.0), weight: 0.25 },
    Continent { name: "asia", short: "as", label: "Asia", lat_deg: (1.0, 45.0), lon_deg: (70.0, 140.0), weight: 0.30 },
    Continent { name: "south_america", short: "sa", label: "South America", lat_deg: (-35.0, 5.0), lon_deg: (-75.0, -38.0), weight: 0.07 },
    Continent { name: "oceania", short: "oc", label: "Oceania", lat_deg: (-38.0, -12.0), lon_deg: (115.0, 153.0), weight: 0.06 },
    Continent { name: "africa", short: "af", label: "Africa", lat_deg: (-34.0, 34.0), lon_deg: (-17.0, 40.0), weight: 0.07 },
];

/// Continent pairs joined by submarine cables, and how many cable systems
/// each has (est.: the busy routes get more). Indices into [`CONTINENTS`];
/// the pairs join all six, so every generated network is connected.
pub const CABLE_ROUTES: [(usize, usize, usize); 10] =
    [(0, 1, 3), (0, 2, 3), (1, 2, 3), (0, 3, 2), (3, 1, 1), (2, 4, 2), (0, 4, 1), (1, 5, 2), (3, 5, 1), (2, 5, 1)];

/// Cloud providers a region may have (the five of `global.toml`).
pub const PROVIDERS: [&str; 5] = ["aws", "azure", "gcp", "alibaba", "tencent"];

/// Shape of a generated global network.
#[derive(Clone, Debug, PartialEq)]
pub struct GlobalSynthParams {
    /// At least 6 (one per continent).
    pub regions: usize,
    /// Terrestrial links from each region to its nearest regions of the
    /// same continent (besides the continent's spanning tree).
    pub nearest: usize,
    /// Regions of a continent where cables land (fewer if it has fewer),
    /// linked to each other on land: a provider's backhaul between its
    /// landing sites, so a pair cut off by one cable can relay through
    /// another landing site's cable.
    pub landing_regions: usize,
    /// Each cable lands at 1 to this many region pairs.
    pub cable_landings: usize,
    /// Probability that a provider has a region at a site (at least one
    /// provider everywhere).
    pub provider_share: f64,
    /// Fibre speed, km per ms one way.
    pub km_per_ms: f64,
    /// Route factor (path length over great circle) on land and under sea.
    pub land_route_factor: f64,
    pub sea_route_factor: f64,
    pub min_latency_ns: u64,
}

impl Default for GlobalSynthParams {
    /// `global.toml`'s rules (docs/references.md, Global cloud regions).
    fn default() -> Self {
        GlobalSynthParams {
            regions: 24,
            nearest: 2,
            landing_regions: 3,
            cable_landings: 3,
            provider_share: 0.5,
            km_per_ms: 200.0,
            land_route_factor: 1.5,
            sea_route_factor: 1.3,
            min_latency_ns: 1_000_000,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct GlobalRegion {
    /// `<continent short>_<index>`, e.g. `eu_001`.
    pub name: String,
    /// Index into [`CONTINENTS`].
    pub continent: usize,
    /// Degrees, rounded to 1e-4 so that the TOML text holds them exactly.
    pub lat_deg: f64,
    pub lon_deg: f64,
    /// A subset of [`PROVIDERS`], in that order, never empty.
    pub providers: Vec<&'static str>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct GlobalLink {
    /// Region indices, `a < b`.
    pub a: usize,
    pub b: usize,
    pub km: f64,
    pub route_factor: f64,
    /// One way.
    pub latency_ns: u64,
    /// Over a submarine cable (every link between continents).
    pub submarine: bool,
    /// The cable (`submarine.<a>_<b>.<k>`); empty on land.
    pub groups: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct GlobalTopology {
    pub params: GlobalSynthParams,
    pub seed: u64,
    pub regions: Vec<GlobalRegion>,
    /// Terrestrial links (continent order, then the landing meshes), then
    /// cables (route order).
    pub links: Vec<GlobalLink>,
}

fn round4(x: f64) -> f64 {
    // Rounding is exact in IEEE arithmetic: the same on every machine.
    (x * 1e4).round() / 1e4
}

/// A global network drawn for `seed`: the same (params, seed) always gives
/// the same network.
pub fn synthetic_global(params: &GlobalSynthParams, seed: u64) -> Result<GlobalTopology, ParamError> {
    let p = params;
    require((6..=MAX_GLOBAL_REGIONS).contains(&p.regions), "regions", &format!("6 to {MAX_GLOBAL_REGIONS} (at least one per continent)"), p.regions)?;
    require(p.nearest <= MAX_NEAREST, "nearest", &format!("0 to {MAX_NEAREST}"), p.nearest)?;
    require((1..=MAX_LANDING_REGIONS).contains(&p.landing_regions), "landing_regions", &format!("1 to {MAX_LANDING_REGIONS}"), p.landing_regions)?;
    require((1..=MAX_CABLE_LANDINGS).contains(&p.cable_landings), "cable_landings", &format!("1 to {MAX_CABLE_LANDINGS}"), p.cable_landings)?;
    require((0.0..=1.0).contains(&p.provider_share), "provider_share", "a probability", p.provider_share)?;
    require(p.km_per_ms.is_finite() && p.km_per_ms > 0.0 && p.km_per_ms <= 300.0, "km_per_ms", "above 0, at most the speed of light (300 km/ms)", p.km_per_ms)?;
    for (name, f) in [("land_route_factor", p.land_route_factor), ("sea_route_factor", p.sea_route_factor)] {
        require(f.is_finite() && (1.0..=10.0).contains(&f), name, "a route factor from 1 to 10", f)?;
    }

    // Continents: one each for the first six regions, then by weight.
    let mut rng = stream(seed, "transport.synth.continents");
    let total: f64 = CONTINENTS.iter().map(|c| c.weight).sum();
    let continent: Vec<usize> = (0..p.regions)
        .map(|r| {
            if r < CONTINENTS.len() {
                return r;
            }
            let mut u = rng.random::<f64>() * total;
            for (k, c) in CONTINENTS.iter().enumerate() {
                if u < c.weight {
                    return k;
                }
                u -= c.weight;
            }
            CONTINENTS.len() - 1
        })
        .collect();
    let mut rng = stream(seed, "transport.synth.coordinates");
    let coords: Vec<(f64, f64)> = continent
        .iter()
        .map(|&k| {
            let c = &CONTINENTS[k];
            (round4(rng.random_range(c.lat_deg.0..c.lat_deg.1)), round4(rng.random_range(c.lon_deg.0..c.lon_deg.1)))
        })
        .collect();
    let mut rng = stream(seed, "transport.synth.providers");
    let regions: Vec<GlobalRegion> = (0..p.regions)
        .map(|r| {
            let draws: Vec<bool> = PROVIDERS.iter().map(|_| rng.random::<f64>() < p.provider_share).collect();
            let fallback = rng.random_range(0..PROVIDERS.len());
            let mut providers: Vec<&'static str> = PROVIDERS.iter().zip(&draws).filter(|(_, d)| **d).map(|(n, _)| *n).collect();
            if providers.is_empty() {
                providers.push(PROVIDERS[fallback]);
            }
            GlobalRegion {
                name: format!("{}_{r:03}", CONTINENTS[continent[r]].short),
                continent: continent[r],
                lat_deg: coords[r].0,
                lon_deg: coords[r].1,
                providers,
            }
        })
        .collect();

    let km = |a: usize, b: usize| great_circle_km(coords[a].0, coords[a].1, coords[b].0, coords[b].1);
    let mut pairs: BTreeSet<(usize, usize)> = BTreeSet::new();
    let mut links = Vec::new();
    let mut add = |a: usize, b: usize, submarine: bool, groups: Vec<String>, links: &mut Vec<GlobalLink>| -> bool {
        let (a, b) = (a.min(b), a.max(b));
        if a == b || !pairs.insert((a, b)) {
            return false;
        }
        let d = km(a, b);
        let route_factor = if submarine { p.sea_route_factor } else { p.land_route_factor };
        let latency_ns = propagation(d, route_factor, p.km_per_ms).as_ns().max(p.min_latency_ns);
        links.push(GlobalLink { a, b, km: d, route_factor, latency_ns, submarine, groups });
        true
    };

    // On land: each continent's minimum spanning tree (Prim's, ties by
    // index), so the continent is connected, then each region's nearest.
    for k in 0..CONTINENTS.len() {
        let members: Vec<usize> = (0..p.regions).filter(|&r| continent[r] == k).collect();
        let mut in_tree = vec![false; members.len()];
        let mut best: Vec<(f64, usize)> = vec![(f64::INFINITY, 0); members.len()];
        if !members.is_empty() {
            in_tree[0] = true;
            for j in 1..members.len() {
                best[j] = (km(members[0], members[j]), 0);
            }
        }
        for _ in 1..members.len() {
            let j = (0..members.len()).filter(|&j| !in_tree[j]).min_by(|&x, &y| best[x].0.total_cmp(&best[y].0).then(x.cmp(&y))).expect("a region outside the tree");
            in_tree[j] = true;
            add(members[best[j].1], members[j], false, Vec::new(), &mut links);
            for i in 0..members.len() {
                if !in_tree[i] {
                    let d = km(members[j], members[i]);
                    if d < best[i].0 {
                        best[i] = (d, j);
                    }
                }
            }
        }
        for &r in &members {
            let mut near: Vec<usize> = members.iter().copied().filter(|&o| o != r).collect();
            near.sort_by(|&x, &y| km(r, x).total_cmp(&km(r, y)).then(x.cmp(&y)));
            for &o in near.iter().take(p.nearest) {
                add(r, o, false, Vec::new(), &mut links);
            }
        }
    }

    // Landing regions: a random few of each continent, meshed on land.
    let mut rng = stream(seed, "transport.synth.landings");
    let mut landing: Vec<Vec<usize>> = Vec::with_capacity(CONTINENTS.len());
    for k in 0..CONTINENTS.len() {
        let mut members: Vec<usize> = (0..p.regions).filter(|&r| continent[r] == k).collect();
        members.shuffle(&mut rng);
        members.truncate(p.landing_regions);
        members.sort();
        for (i, &x) in members.iter().enumerate() {
            for &y in &members[i + 1..] {
                add(x, y, false, Vec::new(), &mut links);
            }
        }
        landing.push(members);
    }

    // Under the sea: every route's cables, each landing at 1 to
    // `cable_landings` pairs of landing regions of its two continents. A
    // pair already linked is not linked again; the first landing of a
    // route's first cable always lands (no earlier link joins those
    // continents).
    let mut rng = stream(seed, "transport.synth.cables");
    let members = landing;
    for &(x, y, cables) in &CABLE_ROUTES {
        for c in 0..cables {
            let group = format!("submarine.{}_{}.{c}", CONTINENTS[x].short, CONTINENTS[y].short);
            let landings = rng.random_range(1..=p.cable_landings);
            for _ in 0..landings {
                let a = members[x][rng.random_range(0..members[x].len())];
                let b = members[y][rng.random_range(0..members[y].len())];
                add(a, b, true, vec![group.clone()], &mut links);
            }
        }
    }
    Ok(GlobalTopology { params: p.clone(), seed, regions, links })
}

impl GlobalTopology {
    /// The network in the backbone topology format of
    /// `scenarios/topologies/global.toml` (one ISP, `transport`, whose
    /// backbone links are the transport links). Same network, same bytes.
    pub fn to_toml(&self) -> String {
        let p = &self.params;
        let mut t = String::new();
        t.push_str(&format!(
            "# Generated: synthetic global transport network, {} regions, seed {}.\n\n[topology]\nname = \"synthetic_global\"\n\
             description = \"Synthetic global transport network: {} regions, {} links, seed {}\"\n\n",
            self.regions.len(),
            self.seed,
            self.regions.len(),
            self.links.len(),
            self.seed
        ));
        t.push_str(&format!(
            "[network]\npropagation_km_per_ms = {:?}\nroute_inflation = {:?}\nmin_latency = \"{} ns\"\n\n",
            p.km_per_ms, p.land_route_factor, p.min_latency_ns
        ));
        t.push_str("[[isps]]\nname = \"transport\"\nlabel = \"Inter-region transport links (every region)\"\n\n");
        for (k, c) in CONTINENTS.iter().enumerate() {
            let hub = self.regions.iter().find(|r| r.continent == k).expect("a region on every continent");
            t.push_str(&format!("[[areas]]\nname = \"{}\"\nlabel = \"{}\"\nhub = \"{}\"\n\n", c.name, c.label, hub.name));
        }
        for r in &self.regions {
            let providers: Vec<String> = r.providers.iter().map(|p| format!("\"{p}\"")).collect();
            t.push_str(&format!(
                "[[provinces]]\nname = \"{}\"\narea = \"{}\"\nlat = {:?}\nlon = {:?}\nproviders = [{}]\n\n",
                r.name,
                CONTINENTS[r.continent].name,
                r.lat_deg,
                r.lon_deg,
                providers.join(", ")
            ));
        }
        t.push_str("[[backbones]]\nisp = \"transport\"\nbandwidth = \"100 Gbps\"\nloss = 0.0005\nlinks = [\n");
        for l in &self.links {
            let (a, b) = (&self.regions[l.a].name, &self.regions[l.b].name);
            if l.submarine {
                let groups: Vec<String> = l.groups.iter().map(|g| format!("\"{g}\"")).collect();
                t.push_str(&format!(
                    "  {{ a = \"{a}\", b = \"{b}\", class = \"submarine\", route_inflation = {:?}, groups = [{}] }},\n",
                    l.route_factor,
                    groups.join(", ")
                ));
            } else {
                t.push_str(&format!("  {{ a = \"{a}\", b = \"{b}\" }},\n"));
            }
        }
        t.push_str("]\n");
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Light in fibre: c over the glass's refractive index (about 1.47;
    /// docs/references.md, Fibre propagation), km per ms.
    const FIBRE_KM_PER_MS: f64 = 299_792.458 / 1.47 / 1000.0;

    fn connected(t: &GlobalTopology) -> bool {
        let n = t.regions.len();
        let mut adj = vec![Vec::new(); n];
        for l in &t.links {
            adj[l.a].push(l.b);
            adj[l.b].push(l.a);
        }
        let mut seen = vec![false; n];
        let mut stack = vec![0];
        seen[0] = true;
        while let Some(r) = stack.pop() {
            for &o in &adj[r] {
                if !seen[o] {
                    seen[o] = true;
                    stack.push(o);
                }
            }
        }
        seen.iter().all(|&s| s)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn every_network_is_connected_physical_and_cables_cross_continents(seed in any::<u64>(), regions in 6usize..260) {
            let p = GlobalSynthParams { regions, ..Default::default() };
            let t = synthetic_global(&p, seed).unwrap();
            prop_assert_eq!(t.regions.len(), regions);
            prop_assert!(connected(&t), "seed {} regions {}: not connected", seed, regions);
            let mut pairs = BTreeSet::new();
            for l in &t.links {
                let (ra, rb) = (&t.regions[l.a], &t.regions[l.b]);
                prop_assert!(l.a < l.b && pairs.insert((l.a, l.b)), "a duplicate or unordered link {}-{}", ra.name, rb.name);
                // No faster than light in fibre over the great circle.
                let km = great_circle_km(ra.lat_deg, ra.lon_deg, rb.lat_deg, rb.lon_deg);
                let floor_ns = km / FIBRE_KM_PER_MS * 1e6;
                prop_assert!(l.latency_ns as f64 >= floor_ns, "{}-{}: {} ns below {} ns", ra.name, rb.name, l.latency_ns, floor_ns);
                // Cables (groups) only between continents, and every link
                // between continents on one cable.
                let across = ra.continent != rb.continent;
                prop_assert_eq!(l.submarine, across);
                prop_assert_eq!(l.groups.len(), across as usize);
                for g in &l.groups {
                    let names = format!("{}_{}", CONTINENTS[ra.continent].short, CONTINENTS[rb.continent].short);
                    let names_rev = format!("{}_{}", CONTINENTS[rb.continent].short, CONTINENTS[ra.continent].short);
                    prop_assert!(g.starts_with(&format!("submarine.{names}.")) || g.starts_with(&format!("submarine.{names_rev}.")), "{} on {}-{}", g, ra.name, rb.name);
                }
            }
            for r in &t.regions {
                prop_assert!(!r.providers.is_empty());
                let c = &CONTINENTS[r.continent];
                prop_assert!(r.name.starts_with(c.short));
                prop_assert!(c.lat_deg.0 <= r.lat_deg && r.lat_deg <= c.lat_deg.1 && c.lon_deg.0 <= r.lon_deg && r.lon_deg <= c.lon_deg.1);
            }
        }

        #[test]
        fn same_seed_same_bytes(seed in any::<u64>()) {
            let p = GlobalSynthParams { regions: 40, ..Default::default() };
            prop_assert_eq!(synthetic_global(&p, seed).unwrap().to_toml(), synthetic_global(&p, seed).unwrap().to_toml());
        }
    }

    #[test]
    fn named_streams_are_independent() {
        let p = GlobalSynthParams { regions: 200, ..Default::default() };
        let base = synthetic_global(&p, 7).unwrap();
        assert_ne!(base.to_toml(), synthetic_global(&p, 8).unwrap().to_toml());
        // Cables drawn differently: regions (continents, coordinates,
        // providers) and the land links stay.
        let cables = synthetic_global(&GlobalSynthParams { cable_landings: 6, ..p.clone() }, 7).unwrap();
        assert_eq!(cables.regions, base.regions);
        let land = |t: &GlobalTopology| t.links.iter().filter(|l| !l.submarine).cloned().collect::<Vec<_>>();
        assert_eq!(land(&cables), land(&base));
        assert_ne!(cables.links, base.links);
        // Providers drawn differently: everything else stays.
        let prov = synthetic_global(&GlobalSynthParams { provider_share: 0.9, ..p.clone() }, 7).unwrap();
        assert_eq!(prov.links, base.links);
        let place = |t: &GlobalTopology| t.regions.iter().map(|r| (r.name.clone(), r.lat_deg, r.lon_deg)).collect::<Vec<_>>();
        assert_eq!(place(&prov), place(&base));
        assert_ne!(prov.regions, base.regions);
    }

    #[test]
    fn bounds_are_refused() {
        let p = GlobalSynthParams::default();
        for bad in [
            GlobalSynthParams { regions: 5, ..p.clone() },
            GlobalSynthParams { regions: MAX_GLOBAL_REGIONS + 1, ..p.clone() },
            GlobalSynthParams { cable_landings: 0, ..p.clone() },
            GlobalSynthParams { landing_regions: 0, ..p.clone() },
            GlobalSynthParams { km_per_ms: 400.0, ..p.clone() },
            GlobalSynthParams { sea_route_factor: 0.9, ..p.clone() },
        ] {
            assert!(synthetic_global(&bad, 1).is_err(), "{bad:?}");
        }
        let big = synthetic_global(&GlobalSynthParams { regions: MAX_GLOBAL_REGIONS, ..p }, 1).unwrap();
        assert!(big.links.len() <= MAX_GLOBAL_REGIONS * (MAX_NEAREST + 1) + 6 * 28 + 19 * MAX_CABLE_LANDINGS);
    }
}
