//! Machines, pools and the placement index.
//!
//! A **pool** is a set of machines, the customers it admits (all of them
//! for a shared pool, a list for a dedicated one), its level (a room, a
//! region or the central tier) and its placement policy. Every machine is
//! in exactly one pool. Levels chain: a request that its room's pool
//! cannot take overflows to the region's pool, then to the central pool
//! ([`Cluster::chain_for`], [`Cluster::place_chain`]); past the last edge
//! level the caller may burst into [`crate::Serverless`].
//!
//! # The index
//!
//! Placement is the hot path (target: 70 000 placements/s on 5 000
//! machines carrying 150 000 pods, Kubernetes' limits:
//! docs/references.md, Kubernetes scale), so a pool does not score every
//! machine.
//! It keeps its uncordoned machines in buckets by allocation level: bucket
//! 0 holds the empty machines, bucket `1 + p` those whose mean utilisation
//! over the dimensions with capacity is `p` per mille (0..=999, full
//! folded into 999), [`LEVELS`] + 1 in all. Only non-empty buckets exist
//! (a B-tree keyed by level), so a small pool costs memory for the levels
//! it uses, not for all of them. Each bucket keeps the
//! componentwise maximum free capacity of its members, so a bucket where
//! nothing can fit is skipped at once (exact on insert; on removal it is
//! marked stale only when the last machine holding a maximum leaves, and
//! recomputed when next needed).
//!
//! A placement visits the buckets in the policy's [`ScanOrder`], scores the
//! machines that fit in the first bucket holding any fit, and stops there,
//! or earlier once `max_candidates` machines have been scored (the role of
//! Kubernetes' `percentageOfNodesToScore` and Borg's relaxed randomisation:
//! docs/references.md, Borg scoring). The winner is the best-scoring
//! machine examined, ties to the lower machine id. So the chosen machine's
//! level is within one per mille of the best possible in the scan order,
//! and an empty machine is chosen by a fullest-first policy only when no
//! non-empty machine fits: the property the binpack tests rely on.
//!
//! Every refusal is counted per pool ([`PoolStats`]) with its reason.

use std::collections::BTreeMap;

use crate::error::{EdgeError, invalid};
use crate::ids::{AllocId, CustomerId, MachineId, PoolId, RegionId, RoomId};
use crate::policy::{MachineView, PlacementPolicy, Refusal, ScanOrder, Verdict};
use crate::resources::{NUM_RESOURCES, Resource, Resources, fits_array};
use crate::topology::{Topology, check_n_minus_k};

/// Allocation levels of the index (per mille steps); bucket 0, the empty
/// machines, comes on top.
pub const LEVELS: u16 = 1_000;
/// Bound on machines in a cluster.
pub const MAX_MACHINES: usize = 1 << 22;
/// Bound on pools.
pub const MAX_POOLS: usize = 65_536;
/// Bound on live allocations.
pub const MAX_ALLOCS: usize = 1 << 26;
/// Bound on the pools of one overflow chain.
pub const MAX_CHAIN: usize = 8;
/// Bound on the customers a dedicated pool lists.
pub const MAX_POOL_CUSTOMERS: usize = 1_024;

const NOT_INDEXED: u16 = u16::MAX;

/// Where a pool sits in the overflow chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// An edge room's own pool.
    Room(RoomId),
    /// A region's pool (machines in any of its rooms).
    Region(RegionId),
    /// The central pool, last edge level.
    Central,
}

impl Level {
    /// Chain position: room 0, region 1, central 2.
    pub fn rank(&self) -> u8 {
        match self {
            Level::Room(_) => 0,
            Level::Region(_) => 1,
            Level::Central => 2,
        }
    }
}

/// Which customers a pool admits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Every customer (one shared pool).
    Shared,
    /// Only these (a dedicated pool); sorted and deduplicated on creation.
    Customers(Vec<CustomerId>),
}

impl Admission {
    /// True when `customer` may use the pool.
    pub fn admits(&self, customer: CustomerId) -> bool {
        match self {
            Admission::Shared => true,
            Admission::Customers(list) => list.binary_search(&customer).is_ok(),
        }
    }
}

/// A pool to create.
pub struct PoolSpec {
    /// A name for reports.
    pub name: String,
    /// Its level.
    pub level: Level,
    /// Who may use it.
    pub admits: Admission,
    /// How it places.
    pub policy: Box<dyn PlacementPolicy>,
    /// Stop after scoring this many feasible machines (at least 1).
    pub max_candidates: usize,
}

impl PoolSpec {
    /// A pool with the default candidate limit (64).
    pub fn new(name: impl Into<String>, level: Level, admits: Admission, policy: Box<dyn PlacementPolicy>) -> Self {
        PoolSpec { name: name.into(), level, admits, policy, max_candidates: 64 }
    }
}

/// Counters of one pool. Each request tried on the pool is counted once:
/// placed, or rejected with one reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Requests placed here.
    pub placed: u64,
    /// Of those, requests that an earlier pool in their chain rejected.
    pub overflow_in: u64,
    /// Requests rejected here that a later pool of the chain placed or
    /// also rejected.
    pub overflow_out: u64,
    /// Rejected: customer not admitted.
    pub rejected_not_admitted: u64,
    /// Rejected: no uncordoned machine.
    pub rejected_no_machines: u64,
    /// Rejected: no fit, by the dimension that refused most machines.
    pub rejected_no_fit: [u64; NUM_RESOURCES],
    /// Rejected: the policy refused every machine that fit.
    pub rejected_policy: u64,
    /// Machines examined (fit checked or scored), summed over placements.
    pub examined: u64,
    /// Machines refused during placements, by reason: no fit per dimension.
    pub machine_no_fit: [u64; NUM_RESOURCES],
    /// Machines refused by the policy during placements.
    pub machine_policy: u64,
}

/// Why a pool did not take a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// The pool does not admit the customer (wrong pool).
    NotAdmitted,
    /// No uncordoned machine; `cordoned` are cordoned.
    NoMachines {
        /// Cordoned machines in the pool.
        cordoned: u32,
    },
    /// Nothing fits; `resource` refused the most machines.
    NoFit {
        /// The dimension short on most machines.
        resource: Resource,
        /// Cordoned machines, not examined.
        cordoned: u32,
    },
    /// Machines fit, but the policy refused them all; its last reason.
    Policy(&'static str),
    /// The cluster holds [`MAX_ALLOCS`] allocations.
    AllocationLimit,
}

/// A request placed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placement {
    /// Its allocation; give it back with [`Cluster::release`].
    pub alloc: AllocId,
    /// The machine.
    pub machine: MachineId,
    /// The pool.
    pub pool: PoolId,
    /// The winning score.
    pub score: i64,
    /// Machines examined.
    pub examined: u32,
}

/// The pools a chain tried before the one that placed (or all of them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tried {
    len: u8,
    items: [(PoolId, Rejection); MAX_CHAIN],
}

impl Tried {
    fn new() -> Self {
        Tried { len: 0, items: [(PoolId(0), Rejection::NotAdmitted); MAX_CHAIN] }
    }
    /// (pool, why it refused), in chain order.
    pub fn as_slice(&self) -> &[(PoolId, Rejection)] {
        &self.items[..self.len as usize]
    }
}

/// The result of a chain placement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainOutcome {
    /// Where it went, if anywhere; its index in the chain is `tried.len()`.
    pub placed: Option<Placement>,
    /// Pools that refused, with reasons.
    pub tried: Tried,
}

impl ChainOutcome {
    /// Pools skipped before the placement (0: first choice).
    pub fn overflow_steps(&self) -> usize {
        self.tried.len as usize
    }
}

struct MachineState {
    room: RoomId,
    pool: PoolId,
    cap: [u64; NUM_RESOURCES],
    alloc: [u64; NUM_RESOURCES],
    allocs: u32,
    cordoned: bool,
    released: bool,
    bucket: u16,
    pos: u32,
}

impl MachineState {
    #[inline]
    fn free(&self) -> [u64; NUM_RESOURCES] {
        std::array::from_fn(|d| self.cap[d] - self.alloc[d])
    }

    /// Bucket 0 when empty, else 1 + floor(mean per mille), capped.
    #[inline]
    fn level(&self) -> u16 {
        if self.allocs == 0 && self.alloc.iter().all(|&a| a == 0) {
            return 0;
        }
        let (mut sum, mut n) = (0u64, 0u64);
        for d in 0..NUM_RESOURCES {
            if self.cap[d] > 0 {
                sum += ((self.alloc[d] as u128 * LEVELS as u128) / self.cap[d] as u128) as u64;
                n += 1;
            }
        }
        let pct = sum.checked_div(n).unwrap_or(0);
        1 + pct.min(LEVELS as u64 - 1) as u16
    }
}

#[derive(Clone)]
struct Bucket {
    members: Vec<u32>,
    max_free: [u64; NUM_RESOURCES],
    /// Members holding each maximum: the maximum goes stale only when the
    /// last of them leaves (pod sizes are few, so ties are the rule).
    max_count: [u32; NUM_RESOURCES],
    stale: bool,
}

impl Bucket {
    fn new() -> Self {
        Bucket { members: Vec::new(), max_free: [0; NUM_RESOURCES], max_count: [0; NUM_RESOURCES], stale: false }
    }

    #[inline]
    fn add_free(&mut self, free: &[u64; NUM_RESOURCES]) {
        for d in 0..NUM_RESOURCES {
            if free[d] > self.max_free[d] {
                self.max_free[d] = free[d];
                self.max_count[d] = 1;
            } else if free[d] == self.max_free[d] {
                self.max_count[d] += 1;
            }
        }
    }
}

struct PoolState {
    name: String,
    level: Level,
    admits: Admission,
    policy: Box<dyn PlacementPolicy>,
    max_candidates: usize,
    buckets: BTreeMap<u16, Bucket>,
    machines: Vec<MachineId>,
    cordoned: u32,
    nonempty: u32,
    capacity: [u64; NUM_RESOURCES],
    allocated: [u64; NUM_RESOURCES],
    stats: PoolStats,
}

#[derive(Clone, Copy)]
struct AllocEntry {
    machine: MachineId,
    need: [u64; NUM_RESOURCES],
}

/// The state of one placement's scan over a pool's buckets.
struct Scan<'a> {
    machines: &'a [MachineState],
    policy: &'a dyn PlacementPolicy,
    need: &'a [u64; NUM_RESOURCES],
    max_candidates: usize,
    stats: &'a mut PoolStats,
    no_fit: [u64; NUM_RESOURCES],
    policy_refused: Option<&'static str>,
    best: Option<(i64, u32)>,
    scored: usize,
    examined: u32,
}

impl Scan<'_> {
    /// Examines one bucket; true when the scan should stop (a fit found).
    fn bucket(&mut self, b: &mut Bucket) -> bool {
        if b.stale {
            Cluster::refresh_bucket(self.machines, b);
        }
        if let Err(r) = fits_array(self.need, &b.max_free) {
            self.no_fit[r as usize] += b.members.len() as u64;
            return false;
        }
        for &m in &b.members {
            let ms = &self.machines[m as usize];
            self.examined += 1;
            let free = ms.free();
            if let Err(r) = fits_array(self.need, &free) {
                self.no_fit[r as usize] += 1;
                self.stats.machine_no_fit[r as usize] += 1;
                continue;
            }
            let view = MachineView { id: MachineId(m), room: ms.room, capacity: &ms.cap, allocated: &ms.alloc, allocations: ms.allocs };
            match self.policy.verdict(&view, self.need) {
                Verdict::Score(s) => {
                    self.scored += 1;
                    let better = match self.best {
                        None => true,
                        Some((bs, bm)) => s > bs || (s == bs && m < bm),
                    };
                    if better {
                        self.best = Some((s, m));
                    }
                    if self.scored >= self.max_candidates {
                        break;
                    }
                }
                Verdict::Refuse(r) => {
                    self.stats.machine_policy += 1;
                    match r {
                        Refusal::NoFit(d) => self.no_fit[d as usize] += 1,
                        Refusal::Policy(why) => self.policy_refused = Some(why),
                        Refusal::Cordoned => self.policy_refused = Some("cordoned"),
                        Refusal::WrongPool => self.policy_refused = Some("wrong pool"),
                    }
                }
            }
        }
        self.best.is_some()
    }
}

/// Machines, pools and allocations. See the module docs for the index.
///
/// Call order: build the topology, [`add_pool`](Cluster::add_pool),
/// [`add_machine`](Cluster::add_machine); then
/// [`place`](Cluster::place) / [`place_chain`](Cluster::place_chain) and
/// [`release`](Cluster::release) as requests come and go;
/// [`cordon`](Cluster::cordon) a machine to drain it and
/// [`release_machine`](Cluster::release_machine) once it is empty.
/// Nothing here reads a clock: the cluster is a pure function of the
/// calls made on it.
pub struct Cluster {
    topology: Topology,
    machines: Vec<MachineState>,
    room_machines: Vec<Vec<MachineId>>,
    pools: Vec<PoolState>,
    allocs: Vec<Option<AllocEntry>>,
    free_allocs: Vec<u32>,
    live_allocs: usize,
}

impl Cluster {
    /// A cluster with no pools or machines over `topology`.
    pub fn new(topology: Topology) -> Self {
        let rooms = topology.num_rooms();
        Cluster {
            topology,
            machines: Vec::new(),
            room_machines: vec![Vec::new(); rooms],
            pools: Vec::new(),
            allocs: Vec::new(),
            free_allocs: Vec::new(),
            live_allocs: 0,
        }
    }

    /// The topology.
    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// Creates a pool. Its level must name a known room or region.
    pub fn add_pool(&mut self, mut spec: PoolSpec) -> Result<PoolId, EdgeError> {
        if self.pools.len() >= MAX_POOLS {
            return Err(EdgeError::BoundExceeded { model: "cluster", what: "pools", bound: MAX_POOLS });
        }
        match spec.level {
            Level::Room(r) if r.index() >= self.topology.num_rooms() => {
                return Err(EdgeError::Unknown { model: "cluster", what: "room", id: r.to_string() });
            }
            Level::Region(g) if g.index() >= self.topology.num_regions() => {
                return Err(EdgeError::Unknown { model: "cluster", what: "region", id: g.to_string() });
            }
            _ => {}
        }
        if spec.max_candidates == 0 {
            return Err(invalid("cluster", "max_candidates", "at least 1", 0));
        }
        if let Admission::Customers(list) = &mut spec.admits {
            if list.is_empty() {
                return Err(invalid("cluster", "admits", "at least one customer", "[]"));
            }
            if list.len() > MAX_POOL_CUSTOMERS {
                return Err(EdgeError::BoundExceeded { model: "cluster", what: "customers in a pool", bound: MAX_POOL_CUSTOMERS });
            }
            list.sort();
            list.dedup();
        }
        self.pools.push(PoolState {
            name: spec.name,
            level: spec.level,
            admits: spec.admits,
            policy: spec.policy,
            max_candidates: spec.max_candidates,
            buckets: BTreeMap::new(),
            machines: Vec::new(),
            cordoned: 0,
            nonempty: 0,
            capacity: [0; NUM_RESOURCES],
            allocated: [0; NUM_RESOURCES],
            stats: PoolStats::default(),
        });
        Ok(PoolId(self.pools.len() as u32 - 1))
    }

    /// Adds a machine in `room` to `pool`. A region pool takes machines of
    /// its region's rooms only; a room pool, of its room only.
    pub fn add_machine(&mut self, room: RoomId, capacity: Resources, pool: PoolId) -> Result<MachineId, EdgeError> {
        let region = self
            .topology
            .region_of(room)
            .ok_or_else(|| EdgeError::Unknown { model: "cluster", what: "room", id: room.to_string() })?;
        let p = self.pools.get(pool.index()).ok_or_else(|| EdgeError::Unknown { model: "cluster", what: "pool", id: pool.to_string() })?;
        match p.level {
            Level::Room(r) if r != room => return Err(invalid("cluster", "room", "the pool's own room", room)),
            Level::Region(g) if g != region => return Err(invalid("cluster", "room", "a room of the pool's region", room)),
            _ => {}
        }
        if capacity.is_zero() {
            return Err(EdgeError::ZeroCapacity { model: "cluster", field: "capacity", found: capacity });
        }
        if self.machines.len() >= MAX_MACHINES {
            return Err(EdgeError::BoundExceeded { model: "cluster", what: "machines", bound: MAX_MACHINES });
        }
        let id = MachineId(self.machines.len() as u32);
        let cap = capacity.to_array();
        self.machines.push(MachineState {
            room,
            pool,
            cap,
            alloc: [0; NUM_RESOURCES],
            allocs: 0,
            cordoned: false,
            released: false,
            bucket: NOT_INDEXED,
            pos: 0,
        });
        self.room_machines[room.index()].push(id);
        let ps = &mut self.pools[pool.index()];
        ps.machines.push(id);
        for d in 0..NUM_RESOURCES {
            ps.capacity[d] += cap[d];
        }
        self.index_insert(id);
        Ok(id)
    }

    /// Number of machines ever added (released ones included).
    pub fn num_machines(&self) -> usize {
        self.machines.len()
    }

    /// Number of pools.
    pub fn num_pools(&self) -> usize {
        self.pools.len()
    }

    fn index_insert(&mut self, m: MachineId) {
        let ms = &self.machines[m.index()];
        let level = ms.level();
        let free = ms.free();
        let b = self.pools[ms.pool.index()].buckets.entry(level).or_insert_with(Bucket::new);
        let pos = b.members.len() as u32;
        b.members.push(m.0);
        if !b.stale {
            b.add_free(&free);
        }
        let ms = &mut self.machines[m.index()];
        ms.bucket = level;
        ms.pos = pos;
    }

    fn index_remove(&mut self, m: MachineId) {
        let (pool, bucket, pos, free) = {
            let ms = &self.machines[m.index()];
            (ms.pool, ms.bucket, ms.pos, ms.free())
        };
        if bucket == NOT_INDEXED {
            return;
        }
        let buckets = &mut self.pools[pool.index()].buckets;
        let b = buckets.get_mut(&bucket).expect("indexed machines are in their bucket");
        b.members.swap_remove(pos as usize);
        if let Some(&moved) = b.members.get(pos as usize) {
            self.machines[moved as usize].pos = pos;
        }
        if b.members.is_empty() {
            buckets.remove(&bucket);
        } else if !b.stale {
            for d in 0..NUM_RESOURCES {
                if free[d] == b.max_free[d] {
                    b.max_count[d] -= 1;
                    if b.max_count[d] == 0 {
                        b.stale = true;
                    }
                }
            }
        }
        self.machines[m.index()].bucket = NOT_INDEXED;
    }

    fn refresh_bucket(machines: &[MachineState], b: &mut Bucket) {
        b.max_free = [0; NUM_RESOURCES];
        b.max_count = [0; NUM_RESOURCES];
        b.stale = false;
        for i in 0..b.members.len() {
            let f = machines[b.members[i] as usize].free();
            b.add_free(&f);
        }
    }

    /// Places `need` for `customer` in `pool`.
    pub fn place(&mut self, pool: PoolId, need: &Resources, customer: CustomerId) -> Result<Placement, Rejection> {
        let need = need.to_array();
        let r = self.place_raw(pool, &need, customer);
        let st = &mut self.pools[pool.index()].stats;
        match r {
            Ok(_) => st.placed += 1,
            Err(Rejection::NotAdmitted) => st.rejected_not_admitted += 1,
            Err(Rejection::NoMachines { .. }) => st.rejected_no_machines += 1,
            Err(Rejection::NoFit { resource, .. }) => st.rejected_no_fit[resource as usize] += 1,
            Err(Rejection::Policy(_)) | Err(Rejection::AllocationLimit) => st.rejected_policy += 1,
        }
        r
    }

    fn place_raw(&mut self, pool: PoolId, need: &[u64; NUM_RESOURCES], customer: CustomerId) -> Result<Placement, Rejection> {
        let live_allocs = self.live_allocs;
        let Cluster { machines, pools, .. } = self;
        let ps = &mut pools[pool.index()];
        if !ps.admits.admits(customer) {
            return Err(Rejection::NotAdmitted);
        }
        if live_allocs >= MAX_ALLOCS {
            return Err(Rejection::AllocationLimit);
        }
        let cordoned = ps.cordoned;
        if ps.machines.len() as u32 - cordoned == 0 {
            return Err(Rejection::NoMachines { cordoned });
        }
        let PoolState { buckets, policy, stats, max_candidates, .. } = ps;
        let mut scan = Scan {
            machines,
            policy: policy.as_ref(),
            need,
            max_candidates: *max_candidates,
            stats,
            no_fit: [0; NUM_RESOURCES],
            policy_refused: None,
            best: None,
            scored: 0,
            examined: 0,
        };
        match scan.policy.order() {
            ScanOrder::EmptiestFirst => {
                for b in buckets.values_mut() {
                    if scan.bucket(b) {
                        break;
                    }
                }
            }
            ScanOrder::FullestFirst => {
                let mut found = false;
                for (_, b) in buckets.range_mut(1..).rev() {
                    if scan.bucket(b) {
                        found = true;
                        break;
                    }
                }
                // Empty machines last.
                if !found && let Some(b) = buckets.get_mut(&0) {
                    scan.bucket(b);
                }
            }
        }
        let Scan { no_fit, policy_refused, best, examined, .. } = scan;
        pools[pool.index()].stats.examined += examined as u64;
        let Some((score, m)) = best else {
            if let Some(why) = policy_refused {
                return Err(Rejection::Policy(why));
            }
            let mut worst = 0;
            for d in 1..NUM_RESOURCES {
                if no_fit[d] > no_fit[worst] {
                    worst = d;
                }
            }
            return Err(Rejection::NoFit { resource: Resource::ALL[worst], cordoned });
        };
        let machine = MachineId(m);
        let alloc = self.commit(machine, need);
        Ok(Placement { alloc, machine, pool, score, examined })
    }

    fn commit(&mut self, machine: MachineId, need: &[u64; NUM_RESOURCES]) -> AllocId {
        self.index_remove(machine);
        let ms = &mut self.machines[machine.index()];
        let was_empty = ms.allocs == 0;
        for d in 0..NUM_RESOURCES {
            ms.alloc[d] += need[d];
        }
        ms.allocs += 1;
        let pool = ms.pool;
        let ps = &mut self.pools[pool.index()];
        for d in 0..NUM_RESOURCES {
            ps.allocated[d] += need[d];
        }
        if was_empty {
            ps.nonempty += 1;
        }
        self.index_insert(machine);
        let entry = AllocEntry { machine, need: *need };
        self.live_allocs += 1;
        match self.free_allocs.pop() {
            Some(i) => {
                self.allocs[i as usize] = Some(entry);
                AllocId(i)
            }
            None => {
                self.allocs.push(Some(entry));
                AllocId(self.allocs.len() as u32 - 1)
            }
        }
    }

    /// Tries `chain` in order; the first pool that places wins. Each pool
    /// that refuses is counted as overflow out, the pool that places as
    /// overflow in when it is not the first.
    pub fn place_chain(&mut self, chain: &[PoolId], need: &Resources, customer: CustomerId) -> ChainOutcome {
        let mut tried = Tried::new();
        for &pool in chain.iter().take(MAX_CHAIN) {
            match self.place(pool, need, customer) {
                Ok(p) => {
                    if tried.len > 0 {
                        self.pools[pool.index()].stats.overflow_in += 1;
                    }
                    return ChainOutcome { placed: Some(p), tried };
                }
                Err(r) => {
                    self.pools[pool.index()].stats.overflow_out += 1;
                    tried.items[tried.len as usize] = (pool, r);
                    tried.len += 1;
                }
            }
        }
        ChainOutcome { placed: None, tried }
    }

    /// The overflow chain of a request for `customer` arriving at `room`:
    /// the room's pools that admit it, then its region's, then the central
    /// ones, each level in pool id order; at most [`MAX_CHAIN`]. Pools that
    /// do not admit the customer are left out, so a dedicated set-up
    /// simply has a shorter chain. Cheap enough per request for small
    /// set-ups; a caller with many pools should cache it per (room,
    /// customer).
    pub fn chain_for(&self, room: RoomId, customer: CustomerId) -> Vec<PoolId> {
        let region = self.topology.region_of(room);
        let mut out: Vec<(u8, PoolId)> = Vec::new();
        for (i, p) in self.pools.iter().enumerate() {
            let on_path = match p.level {
                Level::Room(r) => r == room,
                Level::Region(g) => Some(g) == region,
                Level::Central => true,
            };
            if on_path && p.admits.admits(customer) {
                out.push((p.level.rank(), PoolId(i as u32)));
            }
        }
        out.sort();
        out.into_iter().map(|(_, p)| p).take(MAX_CHAIN).collect()
    }

    /// Gives an allocation back.
    pub fn release(&mut self, alloc: AllocId) -> Result<(), EdgeError> {
        let entry = self
            .allocs
            .get_mut(alloc.index())
            .and_then(Option::take)
            .ok_or(EdgeError::NotAllocated(alloc))?;
        self.free_allocs.push(alloc.0);
        self.live_allocs -= 1;
        let m = entry.machine;
        self.index_remove(m);
        let ms = &mut self.machines[m.index()];
        for d in 0..NUM_RESOURCES {
            ms.alloc[d] -= entry.need[d];
        }
        ms.allocs -= 1;
        let now_empty = ms.allocs == 0;
        let (pool, cordoned) = (ms.pool, ms.cordoned);
        let ps = &mut self.pools[pool.index()];
        for d in 0..NUM_RESOURCES {
            ps.allocated[d] -= entry.need[d];
        }
        if now_empty {
            ps.nonempty -= 1;
        }
        if !cordoned {
            self.index_insert(m);
        }
        Ok(())
    }

    /// Up to `count` uncordoned machines of `pool` to drain first: fewest
    /// allocations, then least allocated (mean share), then lowest id. A
    /// binpacked pool offers its empty machines first, so releasing them
    /// cuts nothing. The caller cordons them, tombstones their pods and
    /// releases each machine once empty.
    pub fn drain_candidates(&self, pool: PoolId, count: usize) -> Vec<MachineId> {
        let Some(p) = self.pools.get(pool.index()) else { return Vec::new() };
        let mut v: Vec<(u32, u16, MachineId)> = p
            .machines
            .iter()
            .map(|&m| (m, &self.machines[m.index()]))
            .filter(|(_, s)| !s.cordoned)
            .map(|(m, s)| (s.allocs, s.level(), m))
            .collect();
        v.sort();
        v.into_iter().take(count).map(|(_, _, m)| m).collect()
    }

    /// The machine of a live allocation.
    pub fn machine_of(&self, alloc: AllocId) -> Option<MachineId> {
        self.allocs.get(alloc.index()).copied().flatten().map(|e| e.machine)
    }

    fn machine(&self, m: MachineId) -> Result<&MachineState, EdgeError> {
        self.machines
            .get(m.index())
            .filter(|s| !s.released)
            .ok_or_else(|| EdgeError::Unknown { model: "cluster", what: "machine", id: m.to_string() })
    }

    /// Stops new placements on `m` (its allocations stay). Idempotent.
    pub fn cordon(&mut self, m: MachineId) -> Result<(), EdgeError> {
        if self.machine(m)?.cordoned {
            return Ok(());
        }
        self.index_remove(m);
        let ms = &mut self.machines[m.index()];
        ms.cordoned = true;
        self.pools[ms.pool.index()].cordoned += 1;
        Ok(())
    }

    /// Lets `m` take placements again. Idempotent.
    pub fn uncordon(&mut self, m: MachineId) -> Result<(), EdgeError> {
        if !self.machine(m)?.cordoned {
            return Ok(());
        }
        let ms = &mut self.machines[m.index()];
        ms.cordoned = false;
        self.pools[ms.pool.index()].cordoned -= 1;
        self.index_insert(m);
        Ok(())
    }

    /// Removes a cordoned, empty machine from its pool for good (returned
    /// to the provider: its hours stop).
    pub fn release_machine(&mut self, m: MachineId) -> Result<(), EdgeError> {
        let ms = self.machine(m)?;
        if !ms.cordoned {
            return Err(EdgeError::NotReleasable { machine: m, reason: "not cordoned".into() });
        }
        if ms.allocs > 0 {
            return Err(EdgeError::NotReleasable { machine: m, reason: format!("{} allocations left", ms.allocs) });
        }
        let (pool, room, cap) = (ms.pool, ms.room, ms.cap);
        self.machines[m.index()].released = true;
        let ps = &mut self.pools[pool.index()];
        ps.cordoned -= 1;
        ps.machines.retain(|&x| x != m);
        for d in 0..NUM_RESOURCES {
            ps.capacity[d] -= cap[d];
        }
        self.room_machines[room.index()].retain(|&x| x != m);
        Ok(())
    }

    /// A live machine's state: (room, pool, capacity, allocated,
    /// allocations, cordoned).
    pub fn machine_info(&self, m: MachineId) -> Option<MachineInfo> {
        let ms = self.machine(m).ok()?;
        Some(MachineInfo {
            room: ms.room,
            pool: ms.pool,
            capacity: Resources::from_array(ms.cap),
            allocated: Resources::from_array(ms.alloc),
            allocations: ms.allocs,
            cordoned: ms.cordoned,
        })
    }

    /// The live machines of a pool, in the order added.
    pub fn pool_machines(&self, pool: PoolId) -> &[MachineId] {
        self.pools.get(pool.index()).map(|p| p.machines.as_slice()).unwrap_or(&[])
    }

    /// A pool's totals and counters.
    pub fn pool_info(&self, pool: PoolId) -> Option<PoolInfo<'_>> {
        let p = self.pools.get(pool.index())?;
        Some(PoolInfo {
            name: &p.name,
            level: p.level,
            admits: &p.admits,
            policy: p.policy.name(),
            machines: p.machines.len() as u32,
            cordoned: p.cordoned,
            nonempty: p.nonempty,
            capacity: Resources::from_array(p.capacity),
            allocated: Resources::from_array(p.allocated),
            stats: p.stats,
        })
    }

    /// Live allocations.
    pub fn live_allocations(&self) -> usize {
        self.live_allocs
    }

    /// Capacity of a room's live machines.
    pub fn room_capacity(&self, room: RoomId) -> Resources {
        let mut c = [0u64; NUM_RESOURCES];
        for &m in self.room_machines.get(room.index()).map(Vec::as_slice).unwrap_or(&[]) {
            let cap = self.machines[m.index()].cap;
            for d in 0..NUM_RESOURCES {
                c[d] += cap[d];
            }
        }
        Resources::from_array(c)
    }

    /// N-k check of a region on its rooms' live machines (the talk's N-2:
    /// `k = 2`; docs/references.md, N-2 rooms). See [`check_n_minus_k`].
    pub fn check_region(&self, region: RegionId, peak_demand: &Resources, k: usize) -> Result<(), EdgeError> {
        let rooms: Vec<(RoomId, Resources)> =
            self.topology.rooms_of(region).iter().map(|&r| (r, self.room_capacity(r))).collect();
        check_n_minus_k(region, &rooms, peak_demand, k)
    }
}

/// A machine's state, for reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MachineInfo {
    /// Its room.
    pub room: RoomId,
    /// Its pool.
    pub pool: PoolId,
    /// Capacity.
    pub capacity: Resources,
    /// Allocated.
    pub allocated: Resources,
    /// Live allocations.
    pub allocations: u32,
    /// Cordoned.
    pub cordoned: bool,
}

/// A pool's state, for reports.
#[derive(Clone, Copy, Debug)]
pub struct PoolInfo<'a> {
    /// Name.
    pub name: &'a str,
    /// Level.
    pub level: Level,
    /// Admission.
    pub admits: &'a Admission,
    /// Policy name.
    pub policy: &'static str,
    /// Live machines (cordoned included).
    pub machines: u32,
    /// Cordoned machines.
    pub cordoned: u32,
    /// Machines with at least one allocation: the ones that cannot be
    /// given back.
    pub nonempty: u32,
    /// Total capacity.
    pub capacity: Resources,
    /// Total allocated.
    pub allocated: Resources,
    /// Counters.
    pub stats: PoolStats,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Binpack, Spread};

    fn cpu(x: u64) -> Resources {
        Resources::new(x, 0, 0, 0, 0)
    }

    fn one_room(policy: Box<dyn PlacementPolicy>, machines: usize) -> (Cluster, PoolId, RoomId) {
        let mut t = Topology::new();
        let g = t.add_region("r").unwrap();
        let room = t.add_room(g, "a").unwrap();
        let mut c = Cluster::new(t);
        let p = c.add_pool(PoolSpec::new("p", Level::Room(room), Admission::Shared, policy)).unwrap();
        for _ in 0..machines {
            c.add_machine(room, Resources::new(1000, 1000, 0, 0, 0), p).unwrap();
        }
        (c, p, room)
    }

    #[test]
    fn binpack_fills_one_machine_first() {
        let (mut c, p, _) = one_room(Box::new(Binpack::default()), 3);
        let ms: Vec<_> = (0..4).map(|_| c.place(p, &Resources::new(250, 250, 0, 0, 0), CustomerId(0)).unwrap().machine).collect();
        assert_eq!(ms, vec![MachineId(0); 4]);
        let fifth = c.place(p, &Resources::new(250, 250, 0, 0, 0), CustomerId(0)).unwrap();
        assert_eq!(fifth.machine, MachineId(1));
        assert_eq!(c.pool_info(p).unwrap().nonempty, 2);
    }

    #[test]
    fn spread_uses_every_machine() {
        let (mut c, p, _) = one_room(Box::new(Spread::default()), 3);
        let ms: Vec<_> = (0..3).map(|_| c.place(p, &cpu(100), CustomerId(0)).unwrap().machine).collect();
        assert_eq!(ms, vec![MachineId(0), MachineId(1), MachineId(2)]);
        assert_eq!(c.pool_info(p).unwrap().nonempty, 3);
    }

    #[test]
    fn reasons_and_release() {
        let (mut c, p, room) = one_room(Box::new(Binpack::default()), 2);
        let a = c.place(p, &cpu(900), CustomerId(0)).unwrap();
        let _b = c.place(p, &cpu(900), CustomerId(0)).unwrap();
        assert_eq!(c.place(p, &cpu(200), CustomerId(0)), Err(Rejection::NoFit { resource: Resource::Cpu, cordoned: 0 }));
        assert_eq!(c.place(p, &Resources::new(0, 0, 1, 0, 0), CustomerId(0)).unwrap_err(), Rejection::NoFit { resource: Resource::Bandwidth, cordoned: 0 });
        c.cordon(a.machine).unwrap();
        c.release(a.alloc).unwrap();
        // Machine 0 is empty but cordoned: still no fit.
        assert_eq!(c.place(p, &cpu(200), CustomerId(0)), Err(Rejection::NoFit { resource: Resource::Cpu, cordoned: 1 }));
        assert!(c.release(a.alloc).is_err());
        c.release_machine(a.machine).unwrap();
        assert_eq!(c.pool_info(p).unwrap().machines, 1);
        assert_eq!(c.room_capacity(room), Resources::new(1000, 1000, 0, 0, 0));
        let st = c.pool_info(p).unwrap().stats;
        assert_eq!((st.placed, st.rejected_no_fit[0], st.rejected_no_fit[2]), (2, 2, 1));
    }

    #[test]
    fn dedicated_pools_and_chains() {
        let mut t = Topology::new();
        let g = t.add_region("r").unwrap();
        let room = t.add_room(g, "a").unwrap();
        let mut c = Cluster::new(t);
        let a = c
            .add_pool(PoolSpec::new("a", Level::Room(room), Admission::Customers(vec![CustomerId(0)]), Box::new(Binpack::default())))
            .unwrap();
        let region = c.add_pool(PoolSpec::new("reg", Level::Region(g), Admission::Shared, Box::new(Binpack::default()))).unwrap();
        c.add_machine(room, cpu(100), a).unwrap();
        c.add_machine(room, cpu(100), region).unwrap();
        assert_eq!(c.place(a, &cpu(10), CustomerId(1)), Err(Rejection::NotAdmitted));
        assert_eq!(c.chain_for(room, CustomerId(0)), vec![a, region]);
        assert_eq!(c.chain_for(room, CustomerId(1)), vec![region]);
        let o = c.place_chain(&[a, region], &cpu(100), CustomerId(0));
        assert_eq!(o.placed.unwrap().pool, a);
        let o = c.place_chain(&[a, region], &cpu(100), CustomerId(0));
        assert_eq!(o.placed.unwrap().pool, region);
        assert_eq!(o.tried.as_slice(), &[(a, Rejection::NoFit { resource: Resource::Cpu, cordoned: 0 })]);
        assert_eq!(c.pool_info(region).unwrap().stats.overflow_in, 1);
        let o = c.place_chain(&[a, region], &cpu(100), CustomerId(0));
        assert!(o.placed.is_none());
        assert_eq!(o.overflow_steps(), 2);
    }

    #[test]
    fn policy_refusal_is_reported() {
        let refuse_all = |_: &MachineView<'_>, _: &[u64; 5]| Verdict::Refuse(Refusal::Policy("label mismatch"));
        let (mut c, p, _) = one_room(Box::new(refuse_all), 2);
        assert_eq!(c.place(p, &cpu(1), CustomerId(0)), Err(Rejection::Policy("label mismatch")));
        assert_eq!(c.pool_info(p).unwrap().stats.machine_policy, 2);
    }

    /// The index against a brute-force scan: after random placements,
    /// releases and cordons, every fresh bucket's maximum and holder count
    /// are exact, and each placement picks what the documented rule picks
    /// (best score in the first bucket, in scan order, holding a fit; ties
    /// to the lower id), or fails exactly when no machine fits.
    #[test]
    fn index_matches_brute_force() {
        use rand::{Rng, SeedableRng};
        for (seed, policy) in [(1u64, "binpack"), (2, "spread"), (3, "hybrid")] {
            let mut t = Topology::new();
            let g = t.add_region("r").unwrap();
            let room = t.add_room(g, "a").unwrap();
            let mut c = Cluster::new(t);
            let mut spec = PoolSpec::new("p", Level::Room(room), Admission::Shared, crate::policy::by_name(policy).unwrap());
            spec.max_candidates = usize::MAX;
            let p = c.add_pool(spec).unwrap();
            for i in 0..40u64 {
                c.add_machine(room, Resources::new(4000 + 1000 * (i % 3), 8000, 100, 0, 10), p).unwrap();
            }
            let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
            let mut live: Vec<AllocId> = Vec::new();
            for _ in 0..4000 {
                let op = rng.random_range(0..10);
                if op < 6 {
                    let need = [rng.random_range(1..6) * 250, rng.random_range(0..5) * 500, rng.random_range(0..3) * 10, 0, 1];
                    let expected = brute_force(&c, p, &need);
                    match c.place(p, &Resources::from_array(need), CustomerId(0)) {
                        Ok(pl) => {
                            assert_eq!(Some(pl.machine), expected, "{policy}");
                            live.push(pl.alloc);
                        }
                        Err(_) => assert_eq!(expected, None, "{policy}"),
                    }
                } else if op < 9 && !live.is_empty() {
                    let a = live.swap_remove(rng.random_range(0..live.len()));
                    c.release(a).unwrap();
                } else {
                    let m = MachineId(rng.random_range(0..40));
                    if c.machines[m.index()].cordoned { c.uncordon(m).unwrap() } else { c.cordon(m).unwrap() }
                }
                for b in c.pools[p.index()].buckets.values().filter(|b| !b.stale) {
                    assert!(!b.members.is_empty());
                    for d in 0..NUM_RESOURCES {
                        let frees: Vec<u64> = b.members.iter().map(|&m| c.machines[m as usize].free()[d]).collect();
                        let mx = *frees.iter().max().unwrap();
                        assert_eq!(b.max_free[d], mx);
                        assert_eq!(b.max_count[d] as usize, frees.iter().filter(|&&f| f == mx).count());
                    }
                }
            }
        }
    }

    fn brute_force(c: &Cluster, p: PoolId, need: &[u64; NUM_RESOURCES]) -> Option<MachineId> {
        let ps = &c.pools[p.index()];
        let order = ps.policy.order();
        // Scan position of a bucket: lower goes first.
        let pos = |level: u16| match order {
            ScanOrder::EmptiestFirst => level as usize,
            ScanOrder::FullestFirst => if level == 0 { LEVELS as usize + 1 } else { LEVELS as usize - level as usize },
        };
        let fitting: Vec<(usize, i64, MachineId)> = ps
            .machines
            .iter()
            .map(|&m| (m, &c.machines[m.index()]))
            .filter(|(_, s)| !s.cordoned && fits_array(need, &s.free()).is_ok())
            .map(|(m, s)| {
                let v = MachineView { id: m, room: s.room, capacity: &s.cap, allocated: &s.alloc, allocations: s.allocs };
                let Verdict::Score(sc) = ps.policy.verdict(&v, need) else { panic!("built-ins never refuse") };
                (pos(s.level()), sc, m)
            })
            .collect();
        let first = fitting.iter().map(|x| x.0).min()?;
        fitting.iter().filter(|x| x.0 == first).max_by(|a, b| a.1.cmp(&b.1).then(b.2.cmp(&a.2))).map(|x| x.2)
    }

    #[test]
    fn drain_candidates_and_region_check() {
        let mut t = Topology::new();
        let g = t.add_region("r").unwrap();
        let rooms: Vec<RoomId> = (0..4).map(|i| t.add_room(g, format!("r{i}")).unwrap()).collect();
        let mut c = Cluster::new(t);
        let p = c.add_pool(PoolSpec::new("p", Level::Region(g), Admission::Shared, Box::new(Binpack::default()))).unwrap();
        for &r in &rooms {
            c.add_machine(r, cpu(1000), p).unwrap();
        }
        c.place(p, &cpu(500), CustomerId(0)).unwrap();
        c.place(p, &cpu(400), CustomerId(0)).unwrap();
        // Machine 0 holds both (binpack); 1..3 are empty.
        assert_eq!(c.drain_candidates(p, 2), vec![MachineId(1), MachineId(2)]);
        c.cordon(MachineId(1)).unwrap();
        assert_eq!(c.drain_candidates(p, 9), vec![MachineId(2), MachineId(3), MachineId(0)]);
        // 4 rooms of 1000: any two down leaves 2000.
        assert!(c.check_region(g, &cpu(2000), 2).is_ok());
        assert!(matches!(c.check_region(g, &cpu(2001), 2), Err(EdgeError::Redundancy { .. })));
    }

    #[test]
    fn stale_bucket_maximum_is_recomputed() {
        // Two machines in one bucket; the one holding the maximum free
        // leaves; a request that only it could take must now be refused,
        // and one the other can take must still be placed.
        let (mut c, p, _) = one_room(Box::new(Binpack::default()), 2);
        let a = c.place(p, &cpu(500), CustomerId(0)).unwrap();
        let b = c.place(p, &cpu(600), CustomerId(0)).unwrap();
        assert_eq!((a.machine, b.machine), (MachineId(0), MachineId(1)));
        c.cordon(MachineId(0)).unwrap();
        assert!(c.place(p, &cpu(450), CustomerId(0)).is_err());
        assert_eq!(c.place(p, &cpu(400), CustomerId(0)).unwrap().machine, MachineId(1));
    }
}
