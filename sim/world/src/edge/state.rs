//! The edge world's state and the order of its events: what `build`
//! makes, the handlers in `mod.rs` change and `record` reads. Kept apart so
//! that those three import it and not each other.

use std::collections::BTreeMap;

use cdnsim_edge::{AllocId, Autoscaler, BandwidthMeter, Cascade, Cluster, ControlPlane, Level, MachineId, MachinePlanner, Pod, PortPool, Resources, Serverless, StreamId, NUM_RESOURCES,
    workload::{Arrivals, DurationDist}};
use cdnsim_engine::{Class, RngStream};
use cdnsim_metrics::stats::LatencyHistogram;
use cdnsim_scenario::{Edge, Scenario};

/// Same-instant events run in class order, then in the order scheduled:
///
/// | class | events | why here |
/// |---|---|---|
/// | 0 `FAULT` | room outages, control and transport faults begin or end, scheduled upgrades | the platform's state first (a probe reply at a fault's start is lost with it) |
/// | 1 `TIMER` | pod, serverless, planner and transport timers, probe replies | a pod ready at t takes a session arriving at t |
/// | 2 `END` | sessions ending | capacity freed at t is free for an arrival at t |
/// | 3 `ARRIVE` | session arrivals | |
/// | 4 `CONTROL` | autoscaler syncs, samples, hourly planning | they observe the instant after everything in it happened |
pub(crate) const FAULT: Class = Class(0);
pub(crate) const TIMER: Class = Class(1);
pub(crate) const END: Class = Class(2);
pub(crate) const ARRIVE: Class = Class(3);
pub(crate) const CONTROL: Class = Class(4);

/// Bound on live sessions (slot numbers are 32 bits; a slot's generation
/// tells a reused slot from the session that had it).
pub(crate) const MAX_LIVE_SESSIONS: usize = 1 << 31;

#[derive(Clone, Copy, Debug)]
pub(crate) enum Ev {
    /// The next session arrival of edge region `region`.
    Arrival { region: u16 },
    /// The session in `slot` ends by its user, if it is still generation `generation`.
    End { slot: u32, generation: u32 },
    /// Pod `pod`'s state machine has work now (ignored unless it is the armed time).
    PodTimer { pod: u32 },
    ServerlessTimer,
    /// Every fleet's autoscaler syncs.
    Sync,
    /// Pool series and machine samples; meters flushed.
    Sample,
    /// Hour boundary: planners record the hour and decide.
    Hour,
    Outage { index: u16, begins: bool },
    /// A control-plane fault begins or ends.
    ControlFault { index: u16, begins: bool },
    /// The control plane's NotReady / eviction checks.
    ControlTimer,
    Upgrade { index: u16 },
    /// A transport fault begins or ends.
    TransportFault { index: u16, begins: bool },
    /// The transport's probe round or detection deadline (ignored unless
    /// it is the armed time).
    TransportTimer,
    /// The reply to probe `seq` of transport link `link` reaches its prober.
    ProbeReply { link: u32, seq: u32 },
}

/// Where a session is served, by the talk's tiers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Tier {
    /// A pod of its own room's fleet on a room-level machine.
    Room = 0,
    /// A region-level machine, or a pod of another room of its region.
    Region = 1,
    /// A central machine.
    Central = 2,
    Serverless = 3,
}

pub(crate) const TIERS: [&str; 4] = ["room", "region", "central", "serverless"];

#[derive(Clone, Copy, Debug)]
pub(crate) enum Host {
    Pod(u32),
    Serverless,
}

/// A holder in a stream's cascade: a pod, or the serverless tier (one
/// holder for all its instances: it has no per-pod capacity here).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Node {
    Pod(u32),
    Serverless,
}

impl From<Host> for Node {
    fn from(h: Host) -> Node {
        match h {
            Host::Pod(p) => Node::Pod(p),
            Host::Serverless => Node::Serverless,
        }
    }
}

/// What a session does with a stream (services without `streams`: `Plain`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Plain,
    /// Publishes the stream whose id is its session id.
    Publisher,
    Subscriber { stream: StreamId },
}

/// Relay session ids have this bit set; session ids never do (generations
/// are 31 bits).
pub(crate) const RELAY_BIT: u64 = 1 << 63;

/// An open cascade leg: its relay id (the same on both ends' pods) and
/// sender; keyed by (stream, receiver), since a holder has one inbound leg.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LegRec {
    pub(crate) id: u64,
    pub(crate) from: Node,
    pub(crate) bandwidth_bps: u64,
}

/// The cascade's state and counters.
#[derive(Default)]
pub(crate) struct Streams {
    pub(crate) cascade: Cascade<Node, u32>,
    pub(crate) legs: BTreeMap<(StreamId, Node), LegRec>,
    pub(crate) leg_of: BTreeMap<u64, (StreamId, Node)>,
    pub(crate) next_leg: u64,
    /// Live streams per service and edge region, for a subscriber's pick;
    /// `pos` finds one in its list.
    pub(crate) by_region: Vec<Vec<Vec<StreamId>>>,
    pub(crate) pos: BTreeMap<StreamId, (u16, u16, u32)>,
    pub(crate) publishers: u64,
    pub(crate) subscribers: u64,
    pub(crate) no_stream: u64,
    pub(crate) rejected_cascade: u64,
    pub(crate) legs_opened: u64,
    pub(crate) legs_cross_region: u64,
    pub(crate) legs_repulled: u64,
    pub(crate) cut_upstream: u64,
    pub(crate) ended_with_stream: u64,
    pub(crate) depth_sum: u64,
    pub(crate) depth_max: u8,
    pub(crate) legs_peak: u64,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Live {
    pub(crate) generation: u32,
    pub(crate) service: u16,
    pub(crate) tier: Tier,
    pub(crate) host: Host,
    pub(crate) role: Role,
    pub(crate) start_ns: u64,
    pub(crate) live: bool,
}

/// A media-server pod, with what the world knows about it.
pub(crate) struct PodRec {
    pub pod: Pod,
    pub fleet: u32,
    pub alloc: Option<AllocId>,
    pub machine: MachineId,
    pub level: Level,
    pub created_ns: u64,
    pub ready_ns: Option<u64>,
    pub tombstone_ns: Option<u64>,
    pub deleted_ns: Option<u64>,
    /// Sessions it held when scaled in (summed over its scale-ins): what a
    /// tombstone drains, or a naive scale-in cuts.
    pub sessions_at_scale_in: u64,
    /// The time its timer event is scheduled for (one at a time).
    pub(crate) armed_ns: Option<u64>,
    /// Streams pushed in (publishers, inbound legs) and pulled out
    /// (subscribers, outbound legs): the autoscaler's stream metrics.
    pub(crate) push: u32,
    pub(crate) pull: u32,
    /// Evicted by the control plane while its room was cut off: out of its
    /// fleet, serving what it has until the room learns it.
    pub(crate) ghost: bool,
    /// Listed in its service's EndpointSlice (ready and taking sessions).
    pub(crate) in_endpoints: bool,
}

impl PodRec {
    /// The stream count a session of `role` adds to (none for a plain one).
    pub(crate) fn streams_of(&mut self, role: Role) -> Option<&mut u32> {
        match role {
            Role::Plain => None,
            Role::Publisher => Some(&mut self.push),
            Role::Subscriber { .. } => Some(&mut self.pull),
        }
    }
}

/// The pods of one service in one room, scaled by one autoscaler.
pub(crate) struct Fleet {
    pub room: usize,
    pub service: usize,
    /// The overflow chain of pools its pods are placed on.
    pub chain: Vec<cdnsim_edge::PoolId>,
    /// Pods not yet waiting for deletion, in creation order.
    pub pods: Vec<u32>,
    pub autoscaler: Autoscaler,
    /// Pod requests no pool of the chain took.
    pub placement_failures: u64,
}

/// One machine's state the cluster does not keep.
pub(crate) struct MachineRec {
    pub room: usize,
    pub pool: cdnsim_edge::PoolId,
    pub ports: PortPool,
    /// Bit s: service s's image is on the machine.
    pub images: u64,
    pub added_ns: u64,
    pub released_ns: Option<u64>,
    /// Cordoned by the planner for release (an outage's cordon is the room's).
    pub draining: bool,
}

/// A room-level pool's machine planner.
pub(crate) struct Planner {
    pub pool: cdnsim_edge::PoolId,
    pub room: usize,
    pub planner: MachinePlanner,
    /// Sum and count of the hour's samples of the pool's demand.
    pub(crate) hour_sum: f64,
    pub(crate) hour_samples: u32,
    pub bought: u64,
    pub released: u64,
}

/// What the run counted.
#[derive(Default)]
pub(crate) struct Counters {
    pub arrived: u64,
    pub by_tier: [u64; 4],
    pub rejected: u64,
    /// Sessions that left their room's fleet: its pods were all full (or
    /// did not fit), or it had no ready pod.
    pub spilled_full: u64,
    pub spilled_not_ready: u64,
    pub cut_eviction: u64,
    pub cut_naive: u64,
    pub cut_recreate: u64,
    pub cut_failure: u64,
    pub kept_in_place: u64,
    pub ended: u64,
    pub pods_created: u64,
    pub pods_revived: u64,
    pub pods_scaled_in: u64,
    pub scale_decisions: u64,
    pub session_ns: [u128; 4],
    /// Sessions placed per tier and rejected since the last sample.
    pub interval_tier: [u64; 4],
    pub interval_rejected: u64,
}

pub(crate) struct EdgeWorld<'a> {
    pub sc: &'a Scenario,
    pub edge: &'a Edge,
    pub cluster: Cluster,
    pub pods: Vec<PodRec>,
    pub fleets: Vec<Fleet>,
    /// fleets[fleet_of[room * services + service]].
    pub fleet_of: Vec<u32>,
    pub machines: Vec<MachineRec>,
    /// Rooms in order: (edge region, down).
    pub rooms: Vec<(usize, bool)>,
    pub region_rooms: Vec<Vec<usize>>,
    pub planners: Vec<Planner>,
    pub serverless: Option<Serverless>,
    pub(crate) serverless_armed: Option<u64>,
    pub pod_requests: Vec<Resources>,
    pub session_needs: Vec<Resources>,
    /// Per service, what each end of a cascade leg uses (None: no streams).
    pub relay_needs: Vec<Option<Resources>>,
    pub session_lengths: Vec<DurationDist>,
    /// Per service, when its publishers' length differs from its sessions'.
    pub publisher_lengths: Vec<Option<DurationDist>>,
    pub startup_prewarmed: DurationDist,
    pub startup_pulled: DurationDist,
    pub cold_start: Option<DurationDist>,
    pub(crate) arrivals: Vec<Arrivals>,
    pub(crate) arrival_rng: Vec<RngStream>,
    pub(crate) session_rng: Vec<RngStream>,
    pub(crate) startup_rng: RngStream,
    pub(crate) cold_rng: RngStream,
    /// Cumulative service shares, for the draw of a session's service.
    pub(crate) share_cdf: Vec<f64>,
    pub(crate) live: Vec<Live>,
    pub(crate) free_slots: Vec<u32>,
    pub live_count: usize,
    pub live_by_tier: [u64; 4],
    pub counters: Counters,
    pub join_us: [LatencyHistogram; 4],
    /// Edge egress: bit-nanoseconds not yet turned into whole bytes.
    pub(crate) edge_bit_ns: u128,
    pub(crate) edge_bps: u128,
    pub(crate) edge_last_ns: u64,
    pub meter: BandwidthMeter,
    pub serverless_bytes: u128,
    pub series: Series,
    pub(crate) streams: Streams,
    /// Pods whose events are to be drained (touched while another pod's
    /// were being handled).
    pub(crate) dirty: Vec<u32>,
    /// The serverless pool changed outside its own handlers: re-arm it.
    pub(crate) serverless_dirty: bool,
    /// `settle` is running (its nested calls return at once).
    pub(crate) settling: bool,
    pub(crate) control: Control,
    /// `[edge.transport]`: the transport network (its handlers:
    /// `edge/transport.rs`).
    pub(crate) transport: Option<Box<TransportNet>>,
}

/// The control plane and its faults (`plane` is `None` when the scenario
/// models none: every room is always managed).
#[derive(Default)]
pub(crate) struct Control {
    pub(crate) plane: Option<ControlPlane>,
    pub(crate) armed: Option<u64>,
    /// Active faults cutting each room's link, and taking the centre down.
    pub(crate) link_cuts: Vec<u32>,
    pub(crate) centre_cuts: u32,
    /// Control faults active now (any kind): the `*_while_cut` counters'
    /// condition, kept so an arrival need not scan every room.
    pub(crate) active_faults: u32,
    pub(crate) syncs_blocked: u64,
    pub(crate) plans_blocked: u64,
    pub(crate) upgrades_blocked: u64,
    pub(crate) not_ready: u64,
    pub(crate) pods_evicted: u64,
    /// Sessions the evicted pods held when the centre evicted them.
    pub(crate) sessions_on_evicted: u64,
    pub(crate) cut: u64,
    /// The first autoscaler sync that ran after the last repair (a fault's
    /// end), and that repair's time.
    pub(crate) repaired_ns: Option<u64>,
    pub(crate) resumed_ns: Option<u64>,
    /// Sessions placed per tier, and rejected, while any fault was active.
    pub(crate) while_cut_tier: [u64; 4],
    pub(crate) while_cut_rejected: u64,
    /// List-watch bytes; pools are the edge regions, then the centre.
    pub(crate) listwatch: Option<cdnsim_edge::ListWatch>,
}

/// Utilisation histogram bins: per mille, exact to 0.1%.
pub(crate) const BINS: usize = 1001;

/// Samples gathered while the run goes.
pub(crate) struct Series {
    pub(crate) second: Vec<u64>,
    pub(crate) sessions: [Vec<u64>; 4],
    pub(crate) placed: [Vec<u64>; 4],
    pub(crate) rejected: Vec<u64>,
    pub(crate) machines: [Vec<u64>; 3],
    pub(crate) nonempty: [Vec<u64>; 3],
    pub(crate) util: [[Vec<f64>; NUM_RESOURCES]; 3],
    pub(crate) pods: [Vec<u64>; 3],
    pub(crate) edge_bps: Vec<u64>,
    pub(crate) serverless_instances: Vec<u64>,
    /// List-watch bytes per sample interval under each scheme, and the
    /// totals at the last sample.
    pub(crate) control_bytes: [Vec<u64>; 5],
    pub(crate) control_bytes_last: [u128; 5],
    pub(crate) streams_live: Vec<u64>,
    pub(crate) legs: Vec<u64>,
    // machines.parquet
    pub(crate) m_second: Vec<u64>,
    pub(crate) m_machine: Vec<u64>,
    pub(crate) m_allocations: Vec<u64>,
    pub(crate) m_cordoned: Vec<bool>,
    pub(crate) m_util: [Vec<f64>; NUM_RESOURCES],
    /// Over (sample, machine holding at least one pod): sums and per-mille
    /// histograms of each resource's utilisation.
    pub(crate) busy_sum: [f64; NUM_RESOURCES],
    pub(crate) busy_count: u64,
    pub(crate) busy_hist: Vec<[u64; BINS]>,
    pub(crate) nonempty_peak: u64,
    pub(crate) machines_peak: u64,
}

impl Default for Series {
    fn default() -> Self {
        Series {
            second: Vec::new(),
            sessions: Default::default(),
            placed: Default::default(),
            rejected: Vec::new(),
            machines: Default::default(),
            nonempty: Default::default(),
            util: Default::default(),
            pods: Default::default(),
            edge_bps: Vec::new(),
            serverless_instances: Vec::new(),
            control_bytes: Default::default(),
            control_bytes_last: [0; 5],
            streams_live: Vec::new(),
            legs: Vec::new(),
            m_second: Vec::new(),
            m_machine: Vec::new(),
            m_allocations: Vec::new(),
            m_cordoned: Vec::new(),
            m_util: Default::default(),
            busy_sum: [0.0; NUM_RESOURCES],
            busy_count: 0,
            busy_hist: vec![[0; BINS]; NUM_RESOURCES],
            nonempty_peak: 0,
            machines_peak: 0,
        }
    }
}


// ---- the transport network's state (handlers in `edge/transport.rs`) ----

use std::collections::BTreeSet;
use cdnsim_engine::stream;
use cdnsim_routing::transport::{LinkSpec, RegionIx, TPath, Transport, TransportConfig};
use cdnsim_scenario::EdgeTransport;

/// Bound on `reroutes.parquet` rows; beyond it rows are counted, not kept.
pub(crate) const MAX_REROUTE_ROWS: usize = 5_000_000;

/// A link's true state.
#[derive(Clone, Debug)]
pub(crate) struct LinkTruth {
    pub(crate) latency_ns: u64,
    pub(crate) loss: f64,
    pub(crate) jitter_ns: u64,
    pub(crate) down: u32,
    pub(crate) extra_loss: f64,
    pub(crate) extra_latency_ns: u64,
    /// Start of the latest outage, for replies in flight.
    pub(crate) last_down_ns: Option<u64>,
    /// Active outages' and degradations' starts (fault index, start).
    pub(crate) outages: BTreeMap<u16, u64>,
    pub(crate) degrades: BTreeMap<u16, u64>,
}

/// One affected session's reroute (a row of `reroutes.parquet`).
#[derive(Clone, Debug)]
pub(crate) struct RerouteRow {
    pub(crate) session: u64,
    pub(crate) stream: u64,
    pub(crate) region_a: u16,
    pub(crate) region_b: u16,
    /// The faulty link on the path before.
    pub(crate) link: Option<u32>,
    /// "outage" or "degrade".
    pub(crate) cause: &'static str,
    pub(crate) fault_start_ns: u64,
    /// When the leg stopped carrying (the fault, or the leg's opening).
    pub(crate) broken_ns: u64,
    /// The route service's switch (`None`: the outage ended first, or the
    /// pair was lost).
    pub(crate) detected_ns: Option<u64>,
    pub(crate) restored_ns: Option<u64>,
    pub(crate) path_before: TPath,
    pub(crate) path_after: Option<TPath>,
    /// missed_probes x probe_interval + the new path's round trip.
    pub(crate) bound_ns: Option<u64>,
    pub(crate) lost: bool,
}

/// A leg carrying nothing: since when, on which link's outage.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Broken {
    pub(crate) since_ns: u64,
    pub(crate) link: u32,
    pub(crate) fault_start_ns: u64,
}

pub(crate) struct TransportNet {
    pub(crate) svc: Transport,
    pub(crate) armed: Option<u64>,
    pub(crate) truth: Vec<LinkTruth>,
    pub(crate) rng: RngStream,
    /// Probes in flight: (link, seq) -> sent at.
    pub(crate) sent: BTreeMap<(u32, u32), u64>,
    /// Legs between regions by pair (lower, higher region).
    pub(crate) pair_legs: BTreeMap<(u16, u16), BTreeSet<(StreamId, Node)>>,
    /// The pair of each such leg.
    pub(crate) leg_pair: BTreeMap<(StreamId, Node), (u16, u16)>,
    pub(crate) broken: BTreeMap<(StreamId, Node), Broken>,
    pub(crate) rows: Vec<RerouteRow>,
    pub(crate) rows_dropped: u64,
    pub(crate) probe_bytes: u64,
    /// Bytes of one probe or reply.
    pub(crate) probe_size: u64,
    pub(crate) legs_rerouted: u64,
    pub(crate) sessions_lost: u64,
    pub(crate) legs_lost: u64,
}

impl TransportNet {
    /// The transport of `t`, its links all up at time zero, with a route
    /// kept for every pair of `regions` (the edge regions and the centre).
    pub(crate) fn new(t: &EdgeTransport, regions: usize, used: &[usize], seed: u64) -> Result<Self, cdnsim_routing::ParamError> {
        let cfg = TransportConfig {
            probe_interval_ns: t.probe_interval_ns,
            missed_probes: t.missed_probes,
            loss_timeout_ns: t.loss_timeout_ns,
            relay: t.relay,
            relays: t.relays.as_ref().map(|v| v.iter().map(|&r| RegionIx(r as u16)).collect()),
            switch_margin: t.switch_margin,
            min_dwell_ns: t.min_dwell_ns,
            half_life_ns: t.half_life_ns,
            loss_half_life_ns: t.loss_half_life_ns,
            ..TransportConfig::default()
        };
        let specs = t
            .links
            .iter()
            .map(|l| LinkSpec { a: RegionIx(l.a as u16), b: RegionIx(l.b as u16), delay_ns: l.latency_ns, loss: l.loss, jitter_ns: l.jitter_ns })
            .collect();
        let mut svc = Transport::new(cfg, regions, specs, 0)?;
        let mut used: Vec<usize> = used.to_vec();
        used.sort();
        used.dedup();
        for (i, &a) in used.iter().enumerate() {
            for &b in &used[i + 1..] {
                svc.route(0, RegionIx(a as u16), RegionIx(b as u16));
            }
        }
        let truth = t
            .links
            .iter()
            .map(|l| LinkTruth {
                latency_ns: l.latency_ns,
                loss: l.loss,
                jitter_ns: l.jitter_ns,
                down: 0,
                extra_loss: 0.0,
                extra_latency_ns: 0,
                last_down_ns: None,
                outages: BTreeMap::new(),
                degrades: BTreeMap::new(),
            })
            .collect();
        Ok(TransportNet {
            svc,
            armed: None,
            truth,
            rng: stream(seed, "edge.transport.probes"),
            sent: BTreeMap::new(),
            pair_legs: BTreeMap::new(),
            leg_pair: BTreeMap::new(),
            broken: BTreeMap::new(),
            rows: Vec::new(),
            rows_dropped: 0,
            probe_bytes: 0,
            probe_size: t.probe_bytes,
            legs_rerouted: 0,
            sessions_lost: 0,
            legs_lost: 0,
        })
    }

    /// True one-way latency of a path now.
    pub(crate) fn path_latency_ns(&self, p: &TPath) -> u64 {
        p.links().map(|l| {
            let t = &self.truth[l.0 as usize];
            t.latency_ns + t.extra_latency_ns
        }).sum()
    }

    /// The first link of `p` that is truly down.
    pub(crate) fn down_link(&self, p: &TPath) -> Option<u32> {
        p.links().find(|l| self.truth[l.0 as usize].down > 0).map(|l| l.0)
    }

    pub(crate) fn bound_ns(&self, p: &TPath) -> u64 {
        let c = self.svc.config();
        c.probe_interval_ns * c.missed_probes as u64 + 2 * self.path_latency_ns(p)
    }
}

/// A path as text: `a>b`, or `a>relay>b` (region names).
pub(crate) fn path_name(sc: &cdnsim_scenario::Scenario, a: u16, b: u16, p: &TPath) -> String {
    let n = |r: u16| sc.regions[r as usize].name.as_str();
    match p.relay {
        None => format!("{}>{}", n(a), n(b)),
        Some(r) => format!("{}>{}>{}", n(a), n(r.0), n(b)),
    }
}

