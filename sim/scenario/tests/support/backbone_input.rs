//! Test-only conversion from a resolved topology file to the backbone's
//! input (the world owns the real one). Shared by the `china_backbone` test
//! and example through `#[path]`.

use cdnsim_net::LossModel;
use cdnsim_net::backbone::{BackboneInput, IdcSpec, InterconnectSpec, LinkSpec, PopSpec};
use cdnsim_scenario::LinkLoss;
use cdnsim_scenario::topology::TopologyData;

pub fn loss_model(l: LinkLoss) -> LossModel {
    match l {
        LinkLoss::Bernoulli { p } => LossModel::Bernoulli { p },
        LinkLoss::GilbertElliott { p_good_to_bad, p_bad_to_good, loss_good, loss_bad } => {
            LossModel::GilbertElliott { p_good_to_bad, p_bad_to_good, loss_good, loss_bad }
        }
    }
}

pub fn backbone_input(t: &TopologyData) -> BackboneInput {
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
