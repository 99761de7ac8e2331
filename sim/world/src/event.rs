//! The events of the CDN world. Their order: the tie-break classes in
//! `class.rs` (re-exported here), then the order of scheduling. Delivery's
//! events are listed here; each part's own events are one variant,
//! [`Event::Part`], whose payload the parts' registry (`parts.rs`) defines.

use cdnsim_engine::SimTime;
use cdnsim_net::ChannelId;

pub use crate::class::{CAPTURE, NET, PLAYOUT, SESSION};
use crate::parts::PartEvent;

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

#[derive(Clone, Copy, Debug)]
pub enum Event {
    Capture(Chunk),
    /// `hops` counts IDC hops taken so far, this one included; `attempt`
    /// is the transmission it came from (0 = first).
    Arrive { hop: Hop, chunk: Chunk, hops: u8, attempt: u8 },
    /// A chunk on overlay link `channel` has wholly reached backbone hop
    /// `k` of its path (backbone.rs); `hops` as it was when sent, `sent`
    /// when it left the sender (for its retransmission timer if dropped
    /// here). The channel alone, not its [`Hop`]: its ends follow from it
    /// (`World::link_hop`), and without them every event is 32 bytes, not
    /// 48 (the flagship holds millions pending).
    Backbone { channel: ChannelId, chunk: Chunk, hops: u8, attempt: u8, k: u8, sent: SimTime },
    /// The sender's retransmission timer for a chunk that did not get
    /// through on `hop`.
    Resend { hop: Hop, chunk: Chunk, hops: u8, attempt: u8 },
    /// Sending `attempt` of control message `id` (the world's control
    /// log says what it asks) reaches the parent, or a route request the
    /// route service's node, unless a link failed on the way; `back`: the
    /// service's answer to that sending reaches the asking node.
    Control { id: u64, attempt: u8, back: bool },
    /// The control messages' retry timers (routing crate's `Retry`) are
    /// due.
    ControlTimer,
    /// The route service's answer for a graft is at the requesting node
    /// (the node hosts the service), or a failed request's wait is over:
    /// index into the world's pending routes.
    RouteReply(u32),
    /// A route request given up after its last retry is asked again, with
    /// a new message: index into the world's pending routes.
    RouteAsk(u32),
    /// Every node measures its links and routing reacts.
    Probe,
    /// Fault `index` of the scenario begins or ends.
    Fault { index: u16, begins: bool },
    /// An event of one of the world's parts (home nodes, the last hop):
    /// `parts.rs` dispatches it to the part that scheduled it.
    Part(PartEvent),
    /// A viewer joins; `arrival`: one of the Poisson arrivals (which
    /// schedules the next), else one of the initial audience.
    ViewerJoin { arrival: bool },
    ViewerLeave(u32),
    Deadline(u32),
}

#[cfg(test)]
mod tests {
    /// A tripwire: the queue holds an event and its 16-byte key per pending
    /// event, millions of them in the flagship (benches/README.md, "Memory
    /// of the flagship"); 32 bytes make an entry 48, not 64.
    #[test]
    fn an_event_is_32_bytes() {
        assert!(std::mem::size_of::<super::Event>() <= 32, "{} bytes", std::mem::size_of::<super::Event>());
    }
}
