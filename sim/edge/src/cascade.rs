//! The cascade of media servers that carries each live stream from the
//! server its publisher pushes to (the origin) to every server with a
//! subscriber of it: the servers pulling from each other form one tree per
//! stream (the talk's distribution network;
//! docs/references.md, Edge-container design).
//!
//! Sans-IO bookkeeping, generic over the caller's node key `K` (a pod, or
//! the serverless tier) and subscriber key `S`. The tree is the crate's;
//! resources are the caller's: for each [`Leg`] this returns the caller
//! opens (or closes) a relay on both of its ends (a pull out of `from`, a
//! push into `to`).
//!
//! Rules the cascade owns:
//! - A node holds a stream once: a second subscriber on a server that has
//!   it adds no leg (that is what a cascade saves over a pull per viewer).
//! - A new holder pulls from the best current holder by the caller's cost
//!   (e.g. same room < same region < remote), then the shallower, then the
//!   lower key; a holder at [`MAX_CASCADE_DEPTH`] is never a source, so
//!   every path from the origin is bounded.
//! - A holder with no subscriber and no child leaves the tree, and so on
//!   up to the origin, which stays while the stream lives.
//! - A holder that loses its place (its server went away) leaves its
//!   children orphaned; the caller re-attaches each orphan (its subtree
//!   comes along) or drops it. Nothing here decides to cut a viewer.
//!
//! Every call is a pure function of the calls before it: maps are ordered,
//! ties go to the lower key.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::EdgeError;
use crate::ids::StreamId;

/// Bound on the legs between an origin and any holder.
pub const MAX_CASCADE_DEPTH: u8 = 8;

/// One server-to-server pull: `to` receives the stream from `from`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Leg<K> {
    /// The sending holder.
    pub from: K,
    /// The receiving holder.
    pub to: K,
}

#[derive(Clone, Debug)]
struct Holder<K, S> {
    /// `None` at the origin, and for an orphan until it is re-attached.
    upstream: Option<K>,
    /// Legs from the origin.
    depth: u8,
    subscribers: BTreeSet<S>,
    children: BTreeSet<K>,
}

impl<K, S> Holder<K, S> {
    fn new(upstream: Option<K>, depth: u8) -> Self {
        Holder { upstream, depth, subscribers: BTreeSet::new(), children: BTreeSet::new() }
    }
}

#[derive(Clone, Debug)]
struct Stream<K, S> {
    origin: K,
    holders: BTreeMap<K, Holder<K, S>>,
}

/// What a holder that left the tree had (from [`Cascade::remove_holder`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Removed<K, S> {
    /// Its inbound leg, to be closed at the sender (`None` at the origin).
    pub inbound: Option<Leg<K>>,
    /// Its subscribers: they lost the stream with their server.
    pub subscribers: Vec<S>,
    /// Its children, now without a source: re-attach or drop each.
    pub orphans: Vec<K>,
    /// Legs above it no longer needed (leaf first), to be closed.
    pub pruned: Vec<Leg<K>>,
}

/// What a dropped subtree or an ended stream had.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dropped<K, S> {
    /// Every leg of it, to be closed at both ends (parents first).
    pub legs: Vec<Leg<K>>,
    /// Every subscriber of it, with the node it was on.
    pub subscribers: Vec<(K, S)>,
}

impl<K, S> Default for Dropped<K, S> {
    fn default() -> Self {
        Dropped { legs: Vec::new(), subscribers: Vec::new() }
    }
}

/// The cascade trees of every live stream. See the module docs.
#[derive(Clone, Debug)]
pub struct Cascade<K, S> {
    streams: BTreeMap<StreamId, Stream<K, S>>,
}

impl<K, S> Default for Cascade<K, S> {
    fn default() -> Self {
        Cascade { streams: BTreeMap::new() }
    }
}

fn unknown(what: &'static str, id: impl ToString) -> EdgeError {
    EdgeError::Unknown { model: "cascade", what, id: id.to_string() }
}

impl<K: Ord + Copy + std::fmt::Debug, S: Ord + Copy> Cascade<K, S> {
    /// An empty cascade.
    pub fn new() -> Self {
        Self::default()
    }

    /// Live streams.
    pub fn streams(&self) -> usize {
        self.streams.len()
    }

    /// A publisher started `stream` on `origin`.
    pub fn publish(&mut self, stream: StreamId, origin: K) -> Result<(), EdgeError> {
        if self.streams.contains_key(&stream) {
            return Err(EdgeError::InvalidParam {
                model: "cascade",
                field: "stream",
                expected: "a stream id not already live",
                found: stream.to_string(),
            });
        }
        let mut holders = BTreeMap::new();
        holders.insert(origin, Holder::new(None, 0));
        self.streams.insert(stream, Stream { origin, holders });
        Ok(())
    }

    /// The origin of a live stream.
    pub fn origin(&self, stream: StreamId) -> Option<K> {
        self.streams.get(&stream).map(|s| s.origin)
    }

    /// The depth (legs from the origin) of `node` in `stream`'s tree, if
    /// it holds the stream.
    pub fn depth(&self, stream: StreamId, node: K) -> Option<u8> {
        self.streams.get(&stream)?.holders.get(&node).map(|h| h.depth)
    }

    /// Holders of `stream` (the origin among them).
    pub fn holders(&self, stream: StreamId) -> usize {
        self.streams.get(&stream).map_or(0, |s| s.holders.len())
    }

    /// Holders `node` may pull `stream` from, best first: lower
    /// `cost(holder)`, then shallower, then the lower key. Holders at
    /// [`MAX_CASCADE_DEPTH`], `node` itself and its own subtree (a pull
    /// from there would close a loop) are left out; `None` from `cost`
    /// leaves a holder out (e.g. one that cannot send).
    pub fn sources(&self, stream: StreamId, node: K, cost: impl Fn(K) -> Option<u32>) -> Vec<K> {
        let Some(s) = self.streams.get(&stream) else { return Vec::new() };
        let below = Self::subtree(s, node);
        let mut out: Vec<(u32, u8, K)> = s
            .holders
            .iter()
            .filter(|(k, h)| h.depth < MAX_CASCADE_DEPTH && !below.contains(k) && (h.upstream.is_some() || **k == s.origin))
            .filter_map(|(&k, h)| cost(k).map(|c| (c, h.depth, k)))
            .collect();
        out.sort();
        out.into_iter().map(|(_, _, k)| k).collect()
    }

    /// The subscribers on `node` and on every holder below it (in key
    /// order of the holders, then of the subscribers): who loses the
    /// stream while `node`'s inbound leg carries nothing.
    pub fn subscribers_below(&self, stream: StreamId, node: K) -> Vec<(K, S)> {
        let Some(s) = self.streams.get(&stream) else { return Vec::new() };
        if !s.holders.contains_key(&node) {
            return Vec::new();
        }
        Self::subtree(s, node)
            .into_iter()
            .flat_map(|k| s.holders[&k].subscribers.iter().map(move |&x| (k, x)))
            .collect()
    }

    /// `node` and every holder below it.
    fn subtree(s: &Stream<K, S>, node: K) -> BTreeSet<K> {
        let mut out = BTreeSet::new();
        let mut stack = vec![node];
        while let Some(n) = stack.pop() {
            if out.insert(n) {
                if let Some(h) = s.holders.get(&n) {
                    stack.extend(h.children.iter().copied());
                }
            }
        }
        out
    }

    /// `node`, not yet a holder, pulls `stream` from holder `from`: the
    /// leg to open. Fails if `from` is not a valid source (see
    /// [`sources`](Self::sources)).
    pub fn attach(&mut self, stream: StreamId, node: K, from: K) -> Result<Leg<K>, EdgeError> {
        let s = self.streams.get_mut(&stream).ok_or_else(|| unknown("stream", stream))?;
        if s.holders.contains_key(&node) {
            return Err(EdgeError::InvalidParam { model: "cascade", field: "node", expected: "a node not holding the stream", found: format!("{node:?}") });
        }
        let depth = Self::source_depth(s, from)?;
        s.holders.insert(node, Holder::new(Some(from), depth + 1));
        s.holders.get_mut(&from).expect("checked").children.insert(node);
        Ok(Leg { from, to: node })
    }

    fn source_depth(s: &Stream<K, S>, from: K) -> Result<u8, EdgeError> {
        let h = s.holders.get(&from).ok_or_else(|| unknown("holder", format!("{from:?}")))?;
        if h.depth >= MAX_CASCADE_DEPTH || (h.upstream.is_none() && from != s.origin) {
            return Err(EdgeError::InvalidParam { model: "cascade", field: "from", expected: "a holder below the depth bound, with a source", found: format!("{from:?}") });
        }
        Ok(h.depth)
    }

    /// Subscriber `sub` watches `stream` on `node`, which holds it.
    pub fn subscribe(&mut self, stream: StreamId, node: K, sub: S) -> Result<(), EdgeError> {
        let s = self.streams.get_mut(&stream).ok_or_else(|| unknown("stream", stream))?;
        let h = s.holders.get_mut(&node).ok_or_else(|| unknown("holder", format!("{node:?}")))?;
        h.subscribers.insert(sub);
        Ok(())
    }

    /// Subscriber `sub` left `node`: the legs no longer needed, leaf first.
    pub fn unsubscribe(&mut self, stream: StreamId, node: K, sub: S) -> Vec<Leg<K>> {
        let Some(s) = self.streams.get_mut(&stream) else { return Vec::new() };
        let Some(h) = s.holders.get_mut(&node) else { return Vec::new() };
        if !h.subscribers.remove(&sub) {
            return Vec::new();
        }
        Self::prune(s, node)
    }

    /// Removes idle holders from `node` upward (never the origin, never an
    /// orphan, which its caller is about to re-attach or drop).
    fn prune(s: &mut Stream<K, S>, mut node: K) -> Vec<Leg<K>> {
        let mut out = Vec::new();
        loop {
            let h = &s.holders[&node];
            let Some(up) = h.upstream else { break };
            if !h.subscribers.is_empty() || !h.children.is_empty() {
                break;
            }
            s.holders.remove(&node);
            s.holders.get_mut(&up).expect("a holder's upstream holds the stream").children.remove(&node);
            out.push(Leg { from: up, to: node });
            node = up;
        }
        out
    }

    /// `node` lost its place in `stream`'s tree (its server went away, or
    /// the caller gives it up). The origin cannot be removed: end the
    /// stream instead. Returns `None` if `node` did not hold it.
    pub fn remove_holder(&mut self, stream: StreamId, node: K) -> Option<Removed<K, S>> {
        let s = self.streams.get_mut(&stream)?;
        if node == s.origin {
            return None;
        }
        let h = s.holders.remove(&node)?;
        for c in &h.children {
            s.holders.get_mut(c).expect("a child holds the stream").upstream = None;
        }
        let (inbound, pruned) = match h.upstream {
            Some(up) => {
                s.holders.get_mut(&up).expect("upstream holds the stream").children.remove(&node);
                (Some(Leg { from: up, to: node }), Self::prune(s, up))
            }
            None => (None, Vec::new()),
        };
        Some(Removed {
            inbound,
            subscribers: h.subscribers.into_iter().collect(),
            orphans: h.children.into_iter().collect(),
            pruned,
        })
    }

    /// Re-attaches orphan `node` (and its subtree) under holder `from`;
    /// the new leg to open. Depths below it are recomputed; fails if some
    /// holder of the subtree would pass [`MAX_CASCADE_DEPTH`].
    pub fn reattach(&mut self, stream: StreamId, node: K, from: K) -> Result<Leg<K>, EdgeError> {
        let s = self.streams.get_mut(&stream).ok_or_else(|| unknown("stream", stream))?;
        match s.holders.get(&node) {
            Some(h) if h.upstream.is_none() && node != s.origin => {}
            _ => return Err(unknown("orphan", format!("{node:?}"))),
        }
        let below = Self::subtree(s, node);
        if below.contains(&from) {
            return Err(EdgeError::InvalidParam { model: "cascade", field: "from", expected: "a holder outside the orphan's subtree", found: format!("{from:?}") });
        }
        let base = Self::source_depth(s, from)? + 1;
        let old = s.holders[&node].depth;
        let deepest = below.iter().map(|k| s.holders[k].depth).max().unwrap_or(old);
        if base as u16 + (deepest - old) as u16 > MAX_CASCADE_DEPTH as u16 {
            return Err(EdgeError::BoundExceeded { model: "cascade", what: "cascade depth", bound: MAX_CASCADE_DEPTH as usize });
        }
        for k in &below {
            let h = s.holders.get_mut(k).expect("in the subtree");
            h.depth = h.depth - old + base;
        }
        s.holders.get_mut(&node).expect("checked").upstream = Some(from);
        s.holders.get_mut(&from).expect("checked").children.insert(node);
        Ok(Leg { from, to: node })
    }

    /// Drops orphan `node` and its subtree: their legs and subscribers.
    pub fn drop_orphan(&mut self, stream: StreamId, node: K) -> Dropped<K, S> {
        let mut out = Dropped::default();
        let Some(s) = self.streams.get_mut(&stream) else { return out };
        if node == s.origin || s.holders.get(&node).is_none_or(|h| h.upstream.is_some()) {
            return out;
        }
        Self::drain_subtree(s, node, &mut out);
        out
    }

    fn drain_subtree(s: &mut Stream<K, S>, node: K, out: &mut Dropped<K, S>) {
        let mut stack = vec![node];
        while let Some(n) = stack.pop() {
            let Some(h) = s.holders.remove(&n) else { continue };
            out.subscribers.extend(h.subscribers.iter().map(|&x| (n, x)));
            out.legs.extend(h.children.iter().map(|&c| Leg { from: n, to: c }));
            // Reversed, so that children pop in key order.
            stack.extend(h.children.iter().rev());
        }
    }

    /// The stream is over (its publisher left or was cut): every leg and
    /// subscriber it had.
    pub fn end(&mut self, stream: StreamId) -> Dropped<K, S> {
        let mut out = Dropped::default();
        let Some(mut s) = self.streams.remove(&stream) else { return out };
        let origin = s.origin;
        Self::drain_subtree(&mut s, origin, &mut out);
        // Orphans not yet re-attached belong to the stream too.
        let rest: Vec<K> = s.holders.keys().copied().collect();
        for k in rest {
            Self::drain_subtree(&mut s, k, &mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type C = Cascade<u32, u32>;
    const S: StreamId = StreamId(7);

    /// Costs: node / 10 is its room, so nodes 10..19 share a room.
    fn room_cost(me: u32) -> impl Fn(u32) -> Option<u32> {
        move |k| Some(if k / 10 == me / 10 { 0 } else { 1 })
    }

    #[test]
    fn a_second_subscriber_on_a_holder_adds_no_leg() {
        let mut c = C::new();
        c.publish(S, 1).unwrap();
        let src = c.sources(S, 20, room_cost(20));
        assert_eq!(src, vec![1]);
        assert_eq!(c.attach(S, 20, 1).unwrap(), Leg { from: 1, to: 20 });
        c.subscribe(S, 20, 100).unwrap();
        c.subscribe(S, 20, 101).unwrap();
        assert_eq!(c.holders(S), 2);
        assert!(c.unsubscribe(S, 20, 100).is_empty(), "another subscriber still watches");
        assert_eq!(c.unsubscribe(S, 20, 101), vec![Leg { from: 1, to: 20 }]);
        assert_eq!(c.holders(S), 1, "the origin stays");
    }

    #[test]
    fn a_new_holder_prefers_a_holder_in_its_own_room_and_prunes_upward() {
        let mut c = C::new();
        c.publish(S, 1).unwrap();
        c.attach(S, 20, 1).unwrap();
        c.subscribe(S, 20, 100).unwrap();
        // Node 21 shares node 20's room: it pulls from 20 (depth 2), not
        // from the remote origin.
        assert_eq!(c.sources(S, 21, room_cost(21)), vec![20, 1]);
        c.attach(S, 21, 20).unwrap();
        c.subscribe(S, 21, 101).unwrap();
        assert_eq!(c.depth(S, 21), Some(2));
        // 20's own viewer leaves: 20 still relays to 21.
        assert!(c.unsubscribe(S, 20, 100).is_empty());
        // 21's viewer leaves: 21 and then 20 go, leaf first.
        assert_eq!(c.unsubscribe(S, 21, 101), vec![Leg { from: 20, to: 21 }, Leg { from: 1, to: 20 }]);
    }

    #[test]
    fn depth_is_bounded_and_loops_are_refused() {
        let mut c = C::new();
        c.publish(S, 0).unwrap();
        for n in 1..=MAX_CASCADE_DEPTH as u32 {
            c.attach(S, n, n - 1).unwrap();
        }
        c.subscribe(S, MAX_CASCADE_DEPTH as u32, 1).unwrap();
        let deepest = MAX_CASCADE_DEPTH as u32;
        assert!(!c.sources(S, 99, |_| Some(0)).contains(&deepest));
        assert!(c.attach(S, 99, deepest).is_err());
        // Orphan node 3 (remove 2): it may not re-attach below itself.
        let r = c.remove_holder(S, 2).unwrap();
        assert_eq!(r.orphans, vec![3]);
        assert_eq!(r.inbound, Some(Leg { from: 1, to: 2 }));
        // Node 1 relayed only to 2 and had no viewer: it is pruned.
        assert_eq!(r.pruned, vec![Leg { from: 0, to: 1 }]);
        assert!(c.reattach(S, 3, 5).is_err(), "5 is in 3's subtree");
        assert!(!c.sources(S, 3, |_| Some(0)).contains(&5));
        c.reattach(S, 3, 0).unwrap();
        assert_eq!(c.depth(S, 3), Some(1));
        assert_eq!(c.depth(S, deepest), Some(deepest as u8 - 2));
    }

    #[test]
    fn subscribers_below_a_holder_are_its_own_and_its_subtrees() {
        let mut c = C::new();
        c.publish(S, 0).unwrap();
        c.attach(S, 1, 0).unwrap();
        c.attach(S, 2, 1).unwrap();
        c.attach(S, 3, 0).unwrap();
        for (n, v) in [(0, 10), (1, 11), (2, 12), (2, 13), (3, 14)] {
            c.subscribe(S, n, v).unwrap();
        }
        assert_eq!(c.subscribers_below(S, 1), vec![(1, 11), (2, 12), (2, 13)]);
        assert_eq!(c.subscribers_below(S, 0).len(), 5);
        assert!(c.subscribers_below(S, 9).is_empty());
    }

    #[test]
    fn removing_a_relay_orphans_its_children_and_prunes_its_idle_source() {
        let mut c = C::new();
        c.publish(S, 0).unwrap();
        c.attach(S, 10, 0).unwrap();
        c.attach(S, 11, 10).unwrap();
        c.attach(S, 12, 11).unwrap();
        c.subscribe(S, 11, 5).unwrap();
        c.subscribe(S, 12, 6).unwrap();
        let r = c.remove_holder(S, 11).unwrap();
        assert_eq!(r.subscribers, vec![5]);
        assert_eq!(r.orphans, vec![12]);
        // 10 had no viewer and no other child: it goes too.
        assert_eq!(r.pruned, vec![Leg { from: 0, to: 10 }]);
        // An orphan is no source until it is re-attached.
        assert_eq!(c.sources(S, 30, |_| Some(0)), vec![0]);
        let d = c.drop_orphan(S, 12);
        assert_eq!(d.subscribers, vec![(12, 6)]);
        assert_eq!(c.holders(S), 1);
    }

    #[test]
    fn ending_a_stream_returns_every_leg_and_viewer() {
        let mut c = C::new();
        c.publish(S, 0).unwrap();
        c.attach(S, 1, 0).unwrap();
        c.attach(S, 2, 0).unwrap();
        c.attach(S, 3, 1).unwrap();
        for (n, v) in [(0, 10), (1, 11), (3, 13), (3, 14)] {
            c.subscribe(S, n, v).unwrap();
        }
        let d = c.end(S);
        assert_eq!(d.legs, vec![Leg { from: 0, to: 1 }, Leg { from: 0, to: 2 }, Leg { from: 1, to: 3 }]);
        let mut subs = d.subscribers.clone();
        subs.sort();
        assert_eq!(subs, vec![(0, 10), (1, 11), (3, 13), (3, 14)]);
        assert_eq!(c.streams(), 0);
        assert!(c.publish(S, 4).is_ok(), "the id is free again");
        assert!(c.publish(S, 4).is_err());
    }
}
