//! The scheduler: which home nodes a client is offered (the talk's
//! heartbeat and ~2x candidates: docs/references.md, Heartbeat and candidates).
//!
//! It knows home nodes only through heartbeats (every `heartbeat`,
//! reporting spare capacity); a node is a candidate until 1.5 heartbeats
//! after its last one, so its view of health lags by about a heartbeat. It
//! answers a client with about `candidates` x the nodes the client needs:
//! same stream, believed alive with spare capacity for a share, a NAT pair
//! that can connect at all, an ESI slot the client does not hold yet. It
//! books a full share of spare per node handed out until the next
//! heartbeat corrects it.
//!
//! Which nodes, in what order, is a [`Placement`] policy. The default,
//! [`FirstFit`], goes nearest first (same region and ISP, then same region,
//! then same ISP, then any) and within each locality bucket takes nodes
//! first fit from a rotating start, so nodes fill up one after another
//! (fewer shares to feed).

use std::collections::BTreeMap;

use crate::ids::HomeId;

/// What a placement policy is asked: a client's place and how many nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    pub now_ns: u64,
    /// The client's region and ISP (`None`: none of the home nodes' ISPs).
    pub region: u16,
    pub isp: Option<u16>,
    pub wanted: usize,
}

/// The scheduler's view of one home node, from its last heartbeat.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HomeView {
    /// A candidate until then.
    pub alive_until_ns: u64,
    /// Symbols per block it can still take (reported less booked).
    pub spare: i64,
    /// Counted in its bucket's `open`: spare holds a share and not yet
    /// seen expired.
    pub open: bool,
}

/// Home nodes of one (region, ISP) for one stream.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bucket {
    pub homes: Vec<HomeId>,
    /// Where [`FirstFit`] starts its next scan.
    pub cursor: usize,
    /// Nodes whose booked spare still holds a share.
    pub open: u32,
}

/// What a policy works on: one stream's buckets and every node's view.
pub struct View<'a> {
    pub buckets: &'a mut BTreeMap<(u16, u16), Bucket>,
    pub homes: &'a mut [HomeView],
    /// Symbols per block a node must have spare to be offered.
    pub share: i64,
}

impl View<'_> {
    /// Whether `h` is a candidate now (alive, a share spare), closing it in
    /// its bucket's count when its view has expired.
    pub fn available(&mut self, key: (u16, u16), h: HomeId, now_ns: u64) -> bool {
        let v = &mut self.homes[h.0 as usize];
        if v.open && v.alive_until_ns <= now_ns {
            // Expired in the scheduler's view: closed until its next heartbeat.
            v.open = false;
            self.buckets.get_mut(&key).expect("a node's bucket").open -= 1;
        }
        let v = &self.homes[h.0 as usize];
        v.alive_until_ns > now_ns && v.spare >= self.share
    }

    /// Books a share of `h`'s spare for a client.
    pub fn book(&mut self, key: (u16, u16), h: HomeId) {
        let v = &mut self.homes[h.0 as usize];
        v.spare -= self.share;
        if v.open && v.spare < self.share {
            v.open = false;
            self.buckets.get_mut(&key).expect("a node's bucket").open -= 1;
        }
    }
}

/// A placement policy: appends to `found` up to `request.wanted` home
/// nodes for which `accept` holds, booking each in `view`. Closures with
/// this signature are policies too.
pub trait Placement {
    fn place(&mut self, request: &Request, view: &mut View<'_>, accept: &mut dyn FnMut(HomeId) -> bool, found: &mut Vec<HomeId>);
}

impl<F> Placement for F
where
    F: FnMut(&Request, &mut View<'_>, &mut dyn FnMut(HomeId) -> bool, &mut Vec<HomeId>),
{
    fn place(&mut self, request: &Request, view: &mut View<'_>, accept: &mut dyn FnMut(HomeId) -> bool, found: &mut Vec<HomeId>) {
        self(request, view, accept, found)
    }
}

/// Nearest first, first fit from a rotating start (module docs), with a
/// bound on the nodes one request scans.
#[derive(Clone, Copy, Debug, Default)]
pub struct FirstFit;

impl Placement for FirstFit {
    fn place(&mut self, request: &Request, view: &mut View<'_>, accept: &mut dyn FnMut(HomeId) -> bool, found: &mut Vec<HomeId>) {
        let wanted = request.wanted;
        let now = request.now_ns;
        let mut scan_budget = 64 * wanted.max(1) + 256;
        let (region, isp) = (request.region, request.isp);
        let pass_of = |(r, i): (u16, u16)| -> u8 { ((r != region) as u8) * 2 + (Some(i) != isp) as u8 };
        let keys: Vec<(u16, u16)> = view.buckets.keys().copied().collect();
        'passes: for pass in 0..4u8 {
            for &key in &keys {
                if pass_of(key) != pass {
                    continue;
                }
                let bucket = view.buckets.get_mut(&key).expect("listed above");
                // The cursor rests on the first node that may still take
                // clients, so a request skips the full ones only once.
                let n = bucket.homes.len();
                let start = bucket.cursor;
                if n > 0 && bucket.open == 0 {
                    // Every node here fails the spare check: account for the
                    // scan the loop below would make, without making it.
                    if found.len() >= wanted || scan_budget == 0 {
                        break 'passes;
                    }
                    let m = n.min(scan_budget);
                    bucket.cursor = (start + m) % n;
                    scan_budget -= m;
                    continue;
                }
                let mut prefix = true;
                for j in 0..n {
                    if found.len() >= wanted || scan_budget == 0 {
                        break 'passes;
                    }
                    scan_budget -= 1;
                    let idx = (start + j) % n;
                    let h = view.buckets[&key].homes[idx];
                    if !view.available(key, h, now) {
                        if prefix {
                            view.buckets.get_mut(&key).expect("listed").cursor = (idx + 1) % n;
                        }
                        continue;
                    }
                    prefix = false;
                    if !accept(h) || found.contains(&h) {
                        continue;
                    }
                    found.push(h);
                    view.book(key, h);
                }
            }
        }
    }
}

/// The scheduler of one run: per last-hop stream its buckets, per home
/// node its view.
pub struct Scheduler {
    /// Per last-hop stream: (region, ISP) -> bucket.
    streams: Vec<BTreeMap<(u16, u16), Bucket>>,
    homes: Vec<HomeView>,
    /// (region, ISP) of every home node.
    keys: Vec<(u16, u16)>,
    heartbeat_ns: u64,
    share: i64,
    policy: Box<dyn Placement>,
}

impl Scheduler {
    /// `homes[h]` = (stream index, region, ISP) of home node `h`.
    pub fn new(streams: usize, homes: &[(u32, u16, u16)], heartbeat_ns: u64, share: u32, policy: Box<dyn Placement>) -> Scheduler {
        let mut buckets = vec![BTreeMap::<(u16, u16), Bucket>::new(); streams];
        for (h, &(f, region, isp)) in homes.iter().enumerate() {
            buckets[f as usize].entry((region, isp)).or_default().homes.push(HomeId(h as u32));
        }
        Scheduler {
            streams: buckets,
            homes: vec![HomeView::default(); homes.len()],
            keys: homes.iter().map(|&(_, r, i)| (r, i)).collect(),
            heartbeat_ns,
            share: share as i64,
            policy,
        }
    }

    /// Home node `h` of stream `fstream` reports at `now_ns`: it can send
    /// `capacity` symbols per block, of which its clients ask `asked`.
    pub fn heartbeat(&mut self, now_ns: u64, h: HomeId, fstream: u32, capacity: i64, asked: i64) {
        let v = &mut self.homes[h.0 as usize];
        v.alive_until_ns = now_ns + self.heartbeat_ns + self.heartbeat_ns / 2;
        let was_open = v.open;
        v.spare = capacity - asked;
        let is_open = v.spare >= self.share;
        v.open = is_open;
        if was_open != is_open {
            let bucket = self.streams[fstream as usize].get_mut(&self.keys[h.0 as usize]).expect("every node is in its bucket");
            if is_open { bucket.open += 1 } else { bucket.open -= 1 }
        }
    }

    /// Candidates for a client of last-hop stream `fstream`, by the policy.
    pub fn candidates(&mut self, request: &Request, fstream: u32, accept: &mut dyn FnMut(HomeId) -> bool) -> Vec<HomeId> {
        let mut found = Vec::with_capacity(request.wanted);
        let mut view = View { buckets: &mut self.streams[fstream as usize], homes: &mut self.homes, share: self.share };
        self.policy.place(request, &mut view, accept, &mut found);
        found
    }

    /// The scheduler's view of `h`.
    pub fn view(&self, h: HomeId) -> HomeView {
        self.homes[h.0 as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HB: u64 = 10_000_000_000;

    /// Home nodes 0..4 in (region 0, ISP 0), 4..8 in (0, 1), 8..12 in
    /// (1, 0), 12..16 in (1, 1); all of stream 0.
    fn scheduler() -> Scheduler {
        let homes: Vec<(u32, u16, u16)> = (0..16).map(|h| (0, (h / 8) as u16, ((h / 4) % 2) as u16)).collect();
        Scheduler::new(1, &homes, HB, 10, Box::new(FirstFit))
    }

    fn ask(s: &mut Scheduler, now: u64, wanted: usize, accept: &mut dyn FnMut(HomeId) -> bool) -> Vec<u32> {
        let r = Request { now_ns: now, region: 1, isp: Some(1), wanted };
        s.candidates(&r, 0, accept).into_iter().map(|h| h.0).collect()
    }

    #[test]
    fn candidates_come_nearest_first() {
        let mut s = scheduler();
        for h in 0..16 {
            s.heartbeat(0, HomeId(h), 0, 10, 0); // room for exactly one share
        }
        // A client in region 1, ISP 1: its own bucket, then same region,
        // then same ISP, then the rest.
        assert_eq!(ask(&mut s, 1, 16, &mut |_| true), [12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3]);
        // All booked: nothing is offered until the next heartbeats.
        assert_eq!(ask(&mut s, 2, 4, &mut |_| true), Vec::<u32>::new());
    }

    #[test]
    fn nodes_fill_up_one_after_another() {
        let mut s = scheduler();
        for h in 12..16 {
            s.heartbeat(0, HomeId(h), 0, 30, 0); // three shares each
        }
        let offered: Vec<u32> = (0..6).flat_map(|t| ask(&mut s, 1 + t, 1, &mut |_| true)).collect();
        assert_eq!(offered, [12, 12, 12, 13, 13, 13]);
    }

    #[test]
    fn the_view_lags_the_heartbeats() {
        let mut s = scheduler();
        s.heartbeat(0, HomeId(12), 0, 100, 0);
        // A node that went silent is offered until 1.5 heartbeats after its
        // last report, not after.
        assert_eq!(ask(&mut s, HB + HB / 2 - 1, 1, &mut |_| true), [12]);
        assert_eq!(ask(&mut s, HB + HB / 2, 1, &mut |_| true), Vec::<u32>::new());
        assert!(!s.view(HomeId(12)).open);
        // A node reporting no spare is not offered however alive it is.
        s.heartbeat(0, HomeId(13), 0, 100, 95);
        assert_eq!(ask(&mut s, 1, 1, &mut |_| true), Vec::<u32>::new());
    }

    #[test]
    fn the_filter_drops_nodes_the_client_cannot_use() {
        let mut s = scheduler();
        for h in 0..16 {
            s.heartbeat(0, HomeId(h), 0, 100, 0);
        }
        // E.g. NAT pairs that can never connect: odd nodes here.
        assert_eq!(ask(&mut s, 1, 4, &mut |h| h.0 % 2 == 0), [12, 14, 8, 10]);
    }

    #[test]
    fn a_closure_is_a_policy() {
        let homes = [(0u32, 0u16, 0u16), (0, 0, 0), (0, 0, 0)];
        // Last node first, ignoring locality and spare.
        let policy = |r: &Request, v: &mut View<'_>, accept: &mut dyn FnMut(HomeId) -> bool, found: &mut Vec<HomeId>| {
            let all: Vec<HomeId> = v.buckets.values().flat_map(|b| b.homes.iter().rev().copied()).collect();
            found.extend(all.into_iter().filter(|&h| accept(h)).take(r.wanted));
        };
        let mut s = Scheduler::new(1, &homes, HB, 10, Box::new(policy));
        let r = Request { now_ns: 0, region: 0, isp: Some(0), wanted: 2 };
        assert_eq!(s.candidates(&r, 0, &mut |_| true), [HomeId(2), HomeId(1)]);
    }
}
