//! Integration tests: one binary, one file per behaviour.
//!
//! Every test that runs a simulation prints its seed and the command that
//! replays it when it fails (see `common::run_ok`).

mod architecture;
mod backbone_china;
mod bad_input;
mod bench;
mod bursty_loss;
mod common;
mod compare_aa;
mod control_charts;
mod compare_effect;
mod compare_gates;
mod compare_mismatch;
mod control_backbone_queue;
mod control_give_up;
mod control_loss_geometric;
mod control_retry_outage;
mod determinism;
mod edge;
mod faults;
mod home_nodes;
mod interconnect_congestion;
mod last_hop;
mod hot_fec;
mod notebooks;
mod ns3_dumbbell;
mod queueing;
mod quickstart;
mod relay_queue;
mod route_service_control;
mod schema;
mod seamless_switching;
mod shared_backbone;
mod stream_independence;
mod stream_selection;
mod sweep;
mod sweep_resume;
mod topologies;
mod transport;
mod transport_synthetic;
mod uplink_copies;
