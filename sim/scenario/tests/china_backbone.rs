//! The bundled China topology builds a sound backbone: every IDC reaches
//! every other; same-ISP Beijing-Guangzhou latency sits above the
//! propagation floor and inside the same-ISP RTT estimate; Telecom-Unicom
//! paths cross exactly one interconnect
//! (docs/references.md, Three interconnects); the 2015 jing-han-guang
//! outage (docs/references.md, Jing-han-guang outage) reroutes Telecom's
//! Beijing-Guangzhou paths at a higher latency, and restoring the corridor
//! restores them.


use std::path::Path;

use cdnsim_net::backbone::{Backbone, Endpoint, IdcId};
use cdnsim_net::geo::great_circle_km;
use cdnsim_scenario::topology::{TopologyData, load_topology};

fn china() -> (TopologyData, Backbone) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/topologies/china.toml");
    let t = load_topology(&path).unwrap();
    let bb = Backbone::new(t.backbone_input()).unwrap();
    (t, bb)
}

fn idc(bb: &Backbone, name: &str) -> Endpoint {
    let i = bb.idcs().iter().position(|d| d.name == name).unwrap_or_else(|| panic!("no IDC {name}"));
    Endpoint::Idc(IdcId(i as u32))
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

#[test]
fn every_idc_reaches_every_other() {
    let (t, mut bb) = china();
    assert_eq!(bb.idcs().len(), t.idcs.len());
    let n = bb.idcs().len() as u32;
    for a in 0..n {
        for b in 0..n {
            let (a, b) = (Endpoint::Idc(IdcId(a)), Endpoint::Idc(IdcId(b)));
            assert!(bb.path_latency_ns(a, b).is_some(), "{a:?} -> {b:?}");
        }
    }
}

#[test]
fn beijing_guangzhou_same_isp_latency_is_plausible() {
    let (t, mut bb) = china();
    let (bj, gz) = (&t.provinces[t.province_index("beijing").unwrap()], &t.provinces[t.province_index("guangdong").unwrap()]);
    // docs/references.md, Beijing-Guangzhou floor: ~1,900 km, 9.5 ms one
    // way at 200 km/ms.
    let floor_ms = great_circle_km(bj.lat_deg, bj.lon_deg, gz.lat_deg, gz.lon_deg) / 200.0;
    assert!((9.2..9.8).contains(&floor_ms), "{floor_ms}");
    for isp in ["telecom", "unicom", "mobile"] {
        let p = bb.path(idc(&bb, &format!("edge.beijing.{isp}.1")), idc(&bb, &format!("edge.guangdong.{isp}.1"))).unwrap();
        assert_eq!(p.isp, bb.isp_id(isp), "{isp}: {p:?}");
        assert!(ms(p.latency_ns) >= floor_ms, "{isp}: {} ms", ms(p.latency_ns));
        // docs/references.md, Same-ISP RTT: 30-45 ms (est.).
        let rtt_ms = 2.0 * ms(p.latency_ns);
        assert!((30.0..=45.0).contains(&rtt_ms), "{isp}: RTT {rtt_ms} ms");
    }
}

#[test]
fn telecom_to_unicom_crosses_exactly_one_interconnect() {
    let (_, mut bb) = china();
    let (telecom, unicom) = (bb.isp_id("telecom").unwrap(), bb.isp_id("unicom").unwrap());
    let single = |bb: &Backbone, isp| -> Vec<Endpoint> {
        (0..bb.idcs().len() as u32)
            .map(IdcId)
            .filter(|&d| bb.idc(d).attachments.len() == 1 && bb.idc(d).attachments[0].isp == isp)
            .map(Endpoint::Idc)
            .collect()
    };
    let (from, to) = (single(&bb, telecom), single(&bb, unicom));
    assert!(from.len() > 100 && to.len() > 50);
    for &a in &from {
        for &b in &to {
            let p = bb.path(a, b).unwrap();
            assert_eq!((p.interconnects, p.isp), (1, None), "{a:?} -> {b:?}: {p:?}");
        }
    }
}

#[test]
fn jing_han_guang_outage_reroutes_beijing_guangzhou_telecom() {
    let (_, mut bb) = china();
    let g = bb.group_id("telecom.jing-han-guang").unwrap();
    let corridor = bb.group_links(g).to_vec();
    let pairs: Vec<(Endpoint, Endpoint)> = (1..=3)
        .flat_map(|i| (1..=3).map(move |j| (i, j)))
        .map(|(i, j)| (idc(&bb, &format!("edge.beijing.telecom.{i}")), idc(&bb, &format!("edge.guangdong.telecom.{j}"))))
        .collect();
    let before: Vec<_> = pairs.iter().map(|&(a, b)| bb.path(a, b).unwrap()).collect();
    assert!(before.iter().all(|p| p.links.iter().any(|l| corridor.contains(l))), "normally on the corridor");

    assert_eq!(bb.set_group_up(g, false), corridor.len());
    for (k, &(a, b)) in pairs.iter().enumerate() {
        let p = bb.path(a, b).unwrap();
        assert_ne!(p.links, before[k].links);
        assert!(p.latency_ns > before[k].latency_ns, "{} -> {} ms", ms(before[k].latency_ns), ms(p.latency_ns));
        assert!(p.links.iter().all(|&l| bb.is_up(l)));
        // Telecom still connects them, so the path stays on Telecom.
        assert_eq!(p.isp, bb.isp_id("telecom"));
    }

    bb.set_group_up(g, true);
    let after: Vec<_> = pairs.iter().map(|&(a, b)| bb.path(a, b).unwrap()).collect();
    assert_eq!(after, before);
}
