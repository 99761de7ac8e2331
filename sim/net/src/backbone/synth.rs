//! A seeded synthetic backbone for scale and property tests: regions in a
//! latitude/longitude box, ISPs with hub-and-spoke backbones, corridors
//! shared by consecutive hub links, a few interconnect sites and IDCs per
//! region. Each part draws from its own named stream (`backbone.synth.*`),
//! so for example changing the IDC count leaves regions and links as they
//! were.

use cdnsim_engine::{RngStream, stream};
use rand::Rng;
use rand::seq::SliceRandom;

use super::input::{BackboneInput, IdcSpec, InterconnectSpec, LinkSpec, MAX_IDCS, MAX_ISPS, MAX_POPS, MAX_REGIONS, PopSpec};
use crate::geo::great_circle_km;
use crate::loss::LossModel;
use crate::param::{ParamError, require};

/// Shape of a synthetic backbone.
#[derive(Clone, Debug, PartialEq)]
pub struct SynthParams {
    pub regions: usize,
    /// The first three ISPs are present in every region; further ones are
    /// small, in about a third of the regions.
    pub isps: usize,
    pub idcs_per_region: usize,
    /// Interconnect sites (distinct regions); at most `regions`. The
    /// default 3 is China Telecom and Unicom's count
    /// (docs/references.md, Three interconnects).
    pub interconnects: usize,
    /// (min, max) latitude and longitude of the box, degrees.
    pub lat_deg: (f64, f64),
    pub lon_deg: (f64, f64),
}

impl Default for SynthParams {
    /// Roughly mainland China's extent.
    fn default() -> Self {
        SynthParams { regions: 16, isps: 3, idcs_per_region: 4, interconnects: 3, lat_deg: (22.0, 46.0), lon_deg: (87.0, 126.0) }
    }
}

const BIG_ISPS: usize = 3;
/// One hub per this many PoPs of an ISP.
const PROVINCES_PER_HUB: usize = 6;
const SMALL_ISP_PRESENCE: f64 = 0.3;
const DUAL_HOMED_SHARE: f64 = 0.35;
const MULTI_LINE_SHARE: f64 = 0.25;

fn bursty(rng: &mut RngStream) -> LossModel {
    if rng.random::<f64>() < 0.2 {
        LossModel::GilbertElliott {
            p_good_to_bad: rng.random_range(0.001..0.02),
            p_bad_to_good: rng.random_range(0.1..0.5),
            loss_good: rng.random_range(0.0..0.002),
            loss_bad: rng.random_range(0.1..0.6),
        }
    } else {
        LossModel::Bernoulli { p: rng.random_range(0.0..0.001) }
    }
}

/// A backbone input drawn for `seed`: the same (params, seed) always gives
/// the same input.
pub fn synthetic(params: &SynthParams, seed: u64) -> Result<BackboneInput, ParamError> {
    let p = params;
    require(p.regions >= 1 && p.regions <= MAX_REGIONS, "regions", &format!("1 to {MAX_REGIONS}"), p.regions)?;
    require(p.isps >= 1 && p.isps <= MAX_ISPS, "isps", &format!("1 to {MAX_ISPS}"), p.isps)?;
    require(p.interconnects <= p.regions, "interconnects", "at most one per region", p.interconnects)?;
    require(p.regions * p.isps <= MAX_POPS, "regions", &format!("at most {MAX_POPS} PoPs (regions x ISPs)"), p.regions * p.isps)?;
    require(p.regions * p.idcs_per_region <= MAX_IDCS, "idcs_per_region", &format!("at most {MAX_IDCS} IDCs"), p.idcs_per_region)?;
    let lat_ok = -90.0 <= p.lat_deg.0 && p.lat_deg.0 < p.lat_deg.1 && p.lat_deg.1 <= 90.0;
    let lon_ok = -180.0 <= p.lon_deg.0 && p.lon_deg.0 < p.lon_deg.1 && p.lon_deg.1 <= 180.0;
    require(lat_ok, "lat_deg", "an increasing range within [-90, 90]", format!("{:?}", p.lat_deg))?;
    require(lon_ok, "lon_deg", "an increasing range within [-180, 180]", format!("{:?}", p.lon_deg))?;

    let mut rng = stream(seed, "backbone.synth.regions");
    let coords: Vec<(f64, f64)> = (0..p.regions)
        .map(|_| (rng.random_range(p.lat_deg.0..p.lat_deg.1), rng.random_range(p.lon_deg.0..p.lon_deg.1)))
        .collect();
    let mut sites: Vec<usize> = (0..p.regions).collect();
    sites.shuffle(&mut stream(seed, "backbone.synth.interconnects"));
    sites.truncate(p.interconnects);

    // Presence: big ISPs everywhere; small ones in a random third, always
    // at the first interconnect site so that they can reach the others.
    let mut rng = stream(seed, "backbone.synth.presence");
    let present: Vec<Vec<bool>> = (0..p.isps)
        .map(|i| {
            (0..p.regions)
                .map(|r| i < BIG_ISPS || sites.first() == Some(&r) || rng.random::<f64>() < SMALL_ISP_PRESENCE)
                .collect()
        })
        .collect();
    let mut pops = Vec::new();
    let mut pop_at = vec![vec![None; p.regions]; p.isps];
    for r in 0..p.regions {
        for i in 0..p.isps {
            if present[i][r] {
                pop_at[i][r] = Some(pops.len());
                pops.push(PopSpec { region: r, isp: i, lat_deg: coords[r].0, lon_deg: coords[r].1 });
            }
        }
    }

    let km = |a: usize, b: usize| great_circle_km(coords[a].0, coords[a].1, coords[b].0, coords[b].1);
    let mut rng = stream(seed, "backbone.synth.links");
    let mut links = Vec::new();
    for i in 0..p.isps {
        let mut regions: Vec<usize> = (0..p.regions).filter(|&r| present[i][r]).collect();
        if regions.len() < 2 {
            continue;
        }
        regions.shuffle(&mut rng);
        let hub_count = regions.len().div_ceil(PROVINCES_PER_HUB).max(2).min(regions.len());
        let mut hubs = regions[..hub_count].to_vec();
        // A ring of hubs in longitude order, so ring links are short; two
        // consecutive ring links share a corridor, as a fibre route through
        // a hub city would.
        hubs.sort_by(|&a, &b| coords[a].1.total_cmp(&coords[b].1).then(a.cmp(&b)));
        let ring_len = if hubs.len() > 2 { hubs.len() } else { 1 };
        let mut link = |a: usize, b: usize, capacity_bps: u64, groups: Vec<String>, rng: &mut RngStream| {
            links.push(LinkSpec {
                a: pop_at[i][a].expect("present"),
                b: pop_at[i][b].expect("present"),
                capacity_bps,
                loss: bursty(rng),
                route_inflation: rng.random_range(1.3..2.0),
                latency_ns: None,
                groups,
            });
        };
        for k in 0..ring_len {
            let (a, b) = (hubs[k], hubs[(k + 1) % hubs.len()]);
            link(a, b, 400_000_000_000, vec![format!("isp{i}.corridor{}", k / 2)], &mut rng);
        }
        for &r in &regions[hub_count..] {
            let mut near: Vec<usize> = hubs.clone();
            near.sort_by(|&a, &b| km(r, a).total_cmp(&km(r, b)).then(a.cmp(&b)));
            link(r, near[0], 100_000_000_000, Vec::new(), &mut rng);
            if rng.random::<f64>() < DUAL_HOMED_SHARE {
                link(r, near[1], 40_000_000_000, Vec::new(), &mut rng);
            }
        }
    }

    let mut rng = stream(seed, "backbone.synth.interconnect_params");
    let interconnects = sites
        .iter()
        .filter_map(|&r| {
            let at: Vec<usize> = (0..p.isps).filter_map(|i| pop_at[i][r]).collect();
            (at.len() >= 2).then(|| InterconnectSpec {
                name: format!("ix{r}"),
                pops: at,
                extra_latency_ns: rng.random_range(5_000_000..30_000_000),
                capacity_bps: 100_000_000_000,
                loss: LossModel::GilbertElliott { p_good_to_bad: 0.005, p_bad_to_good: 0.25, loss_good: 0.002, loss_bad: 0.5 },
                groups: vec![format!("ix{r}")],
            })
        })
        .collect();

    let mut rng = stream(seed, "backbone.synth.idcs");
    let mut idcs = Vec::with_capacity(p.regions * p.idcs_per_region);
    for r in 0..p.regions {
        let here: Vec<usize> = pop_at.iter().filter_map(|by_region| by_region[r]).collect();
        for k in 0..p.idcs_per_region {
            let multi = k == 0 && here.len() >= 2 && rng.random::<f64>() < MULTI_LINE_SHARE;
            let pops = if multi { here.clone() } else { vec![here[rng.random_range(0..here.len())]] };
            idcs.push(IdcSpec {
                name: format!("r{r}.idc{k}"),
                region: r,
                pops,
                egress_bps: rng.random_range(10..=100) * 1_000_000_000,
                price_per_gb: rng.random_range(0.05..0.6),
                access_latency_ns: rng.random_range(200_000..2_000_000),
            });
        }
    }

    Ok(BackboneInput {
        propagation_km_per_ms: 200.0,
        min_latency_ns: 200_000,
        interconnect_route_inflation: 1.5,
        isps: (0..p.isps).map(|i| format!("isp{i}")).collect(),
        regions: (0..p.regions).map(|r| format!("r{r}")).collect(),
        pops,
        links,
        interconnects,
        idcs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backbone::Backbone;

    #[test]
    fn same_seed_same_backbone_and_builds() {
        let p = SynthParams::default();
        let a = synthetic(&p, 7).unwrap();
        let b = synthetic(&p, 7).unwrap();
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        assert_ne!(format!("{a:?}"), format!("{:?}", synthetic(&p, 8).unwrap()));
        let bb = Backbone::new(a).unwrap();
        assert_eq!(bb.idcs().len(), 64);
        assert!(bb.interconnects().len() >= 2);
    }

    #[test]
    fn idc_count_does_not_move_the_links() {
        let p = SynthParams::default();
        let q = SynthParams { idcs_per_region: 9, ..p.clone() };
        let (a, b) = (synthetic(&p, 3).unwrap(), synthetic(&q, 3).unwrap());
        assert_eq!(format!("{:?}", a.links), format!("{:?}", b.links));
    }
}
