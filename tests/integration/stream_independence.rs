//! Named random streams keep processes apart at the model level: adding
//! a node and a link changes nothing about who arrives when, where, or for
//! how long, because those draws come from the viewers' own streams.

use cdnsim_metrics::table::read_parquet;

use crate::common::*;

#[test]
fn adding_a_node_does_not_perturb_viewer_arrivals() {
    let dir = temp_dir("streams");
    // A second, viewerless edge in Xi'an with a lossy link of its own.
    let extra = quickstart_text().replace(
        "[broadcaster]",
        "[[nodes]]\nname = \"xa-edge-2\"\nregion = \"xian\"\nisp = \"mobile\"\nrole = \"edge\"\nparent = \"west-centre\"\negress = \"1 Gbps\"\n\n\
         [[links]]\nfrom = \"west-centre\"\nto = \"xa-edge-2\"\nbandwidth = \"1 Gbps\"\nloss = 0.05\n\n[broadcaster]",
    );
    // Viewers in Xi'an would now pick between two edges; send none there.
    let extra = extra.replace("region = \"xian\"\nweight = 1.0", "region = \"xian\"\nweight = 1.0e-300");
    let base_text = quickstart_text().replace("region = \"xian\"\nweight = 1.0", "region = \"xian\"\nweight = 1.0e-300");
    let f_base = dir.join("base.toml");
    let f_extra = dir.join("extra.toml");
    std::fs::write(&f_base, base_text).unwrap();
    std::fs::write(&f_extra, extra).unwrap();
    let a = run_ok(&f_base, &dir.join("b"), &[], &[]);
    let b = run_ok(&f_extra, &dir.join("c"), &[], &[]);

    let va = read_parquet(&a.join("viewers.parquet")).unwrap();
    let vb = read_parquet(&b.join("viewers.parquet")).unwrap();
    assert!(va.height() > 100);
    for col in ["join_ms", "region", "edge"] {
        assert!(va.column(col).unwrap().equals(vb.column(col).unwrap()), "{col} changed when a node was added");
    }
    // Sessions that the stop did not cut short also keep their length.
    let leave_a = va.column("leave_ms").unwrap();
    let leave_b = vb.column("leave_ms").unwrap();
    assert!(leave_a.equals(leave_b));
}
