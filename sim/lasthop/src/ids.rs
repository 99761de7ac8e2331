//! Handles between the last hop and the world that drives it. Each is an
//! index into a table one side owns; the newtypes keep a home node from
//! being passed where a client was meant.

/// A home node: its index in the caller's home-node table (the order the
/// caller passed them to [`crate::LastHop::new`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HomeId(pub u32);

/// A last-hop client (one per viewer session of a last-hop stream), in the
/// order [`crate::LastHop::client_join`] handed them out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClientId(pub u32);

/// An IDC edge node (the caller's node index): the server that feeds home
/// nodes their shares and clients what home nodes do not cover.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EdgeId(pub u32);

/// A stream (the caller's stream index).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId(pub u32);

/// A block of a stream: its index on the stream's block clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Block(pub u32);

/// A NAT class as the caller's traversal model numbers them; the last hop
/// only compares and forwards it (see [`crate::Underlay`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NatClass(pub u8);

/// Who sent a batch of symbols to a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sender {
    /// The client's edge server: its symbols `offset..offset + count` of
    /// the block (source symbols first, then its own repair ids).
    Server,
    /// A home node: repair symbols of its slot.
    Home(HomeId),
}
