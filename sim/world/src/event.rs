//! Events and their order.
//!
//! Same-instant events run in class order (lower first), then in the order
//! they were scheduled. The classes are chosen so that everything that can
//! make a block available at an instant happens before a player looks for
//! that block at the same instant:
//!
//! | class | events | why here |
//! |---|---|---|
//! | 0 `NET` | faults, home-node churn and capacity changes, data and control arrivals, chunks reaching a shared backbone link (same-instant chunks queue there in scheduling order), resend timers, probing rounds, route replies, last-hop feeds, symbol batches, heartbeats and client reviews | state of the network first |
//! | 1 `CAPTURE` | the broadcaster finishes capturing a chunk | after arrivals, so a capture never overtakes delivery bookkeeping |
//! | 2 `SESSION` | viewer joins and leaves | a viewer leaving at t sees nothing that arrives later than t |
//! | 3 `PLAYOUT` | playout deadlines | last: a block that completes exactly at its deadline plays on time |

use cdnsim_engine::{Class, SimTime};
use cdnsim_lasthop::{Block, ClientId, HomeId, Sender};
use cdnsim_net::ChannelId;

pub const NET: Class = Class(0);
pub const CAPTURE: Class = Class(1);
pub const SESSION: Class = Class(2);
pub const PLAYOUT: Class = Class(3);

/// A chunk of stream `stream`: `index` within `block`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Chunk {
    pub stream: u32,
    pub block: u32,
    pub index: u16,
}

/// One hop a chunk takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hop {
    /// Broadcaster -> the ingest node of the chunk's stream.
    Ingest,
    /// IDC node -> IDC node over one direction of a link.
    Link { channel: ChannelId, from: u32, to: u32 },
    /// Edge node -> viewer, through the edge's egress and the access network.
    Access { viewer: u32 },
}

/// Symbols on their way to a last-hop client (see [`Event::Batch`]).
#[derive(Clone, Copy, Debug)]
pub struct Batch {
    pub client: ClientId,
    pub sender: Sender,
    pub block: Block,
    pub count: u16,
    pub offset: u16,
    /// Where the sender was in the client's list when it sent (checked
    /// before searching it).
    pub hint: u16,
}

#[derive(Clone, Copy, Debug)]
pub enum Event {
    Capture(Chunk),
    /// `hops` counts IDC hops taken so far, this one included; `attempt`
    /// is the transmission it came from (0 = first).
    Arrive { hop: Hop, chunk: Chunk, hops: u8, attempt: u8 },
    /// A chunk on overlay `hop` has wholly reached backbone hop `k` of its
    /// path (backbone.rs); `hops` as it was when sent, `sent` when it left
    /// the sender (for its retransmission timer if dropped here).
    Backbone { hop: Hop, chunk: Chunk, hops: u8, attempt: u8, k: u8, sent: SimTime },
    /// The sender's retransmission timer for a chunk that did not get
    /// through on `hop`.
    Resend { hop: Hop, chunk: Chunk, hops: u8, attempt: u8 },
    /// A child node asks its parent to start sending `stream` from block
    /// `block` on (subscribe), or to stop after block `block` (not).
    Control { stream: u32, child: u32, parent: u32, subscribe: bool, block: u32 },
    /// The route service's answer for a graft reaches the requesting node:
    /// index into the world's pending routes.
    RouteReply(u32),
    /// Every node measures its links and routing reacts.
    Probe,
    /// Fault `index` of the scenario begins or ends.
    Fault { index: u16, begins: bool },
    /// A home node goes on- or offline.
    HomeChurn(u32),
    /// A home node's household-usage level may change.
    HomeTick(u32),
    /// A home node's share of `block` arrives from its edge.
    PeerFeed { home: HomeId, block: Block },
    /// `count` symbols of `block` from `sender` (a home node, or the
    /// edge server) reach last-hop client `client`, before loss; the
    /// server's are its symbols `offset..offset + count` of the block.
    Batch(Batch),
    /// Last-hop client `client` reviews its senders for `block`.
    ClientTick { client: ClientId, block: Block },
    /// A home node's heartbeat to the last-hop scheduler is due.
    Heartbeat(HomeId),
    /// A viewer joins; `arrival`: one of the Poisson arrivals (which
    /// schedules the next), else one of the initial audience.
    ViewerJoin { arrival: bool },
    ViewerLeave(u32),
    Deadline(u32),
}
