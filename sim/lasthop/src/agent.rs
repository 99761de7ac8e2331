//! The home-node agent: a home node's part in the last hop (the talk's
//! account: docs/references.md, Load shedding).
//!
//! It registers with the scheduler when it comes online and heartbeats on
//! its own clock. While it has clients it is fed its share of each block
//! by its edge (an idle share would cost IDC egress and serve nobody), and
//! uploads to every client the symbols that client asks for, paced at its
//! current upload capacity (churn and the household's use change it).
//! Load shedding: when a block's demand exceeds what it can send in one
//! block duration, it drops the most recently subscribed clients first
//! (last in, first out: the established sessions are the ones a viewer
//! would notice losing) until the rest fit. What it can send is what it
//! measured: the rate its own uploads achieved since the previous block
//! (bytes over the time it was busy sending them), as the talk's nodes
//! judge by their measured symbol rate. It never reads the model's true
//! capacity, so a node whose upload just dropped learns it one block
//! later, from sends that took longer, as a real one would. Offline, it
//! sends and receives nothing; its connections close and its clients
//! notice only because symbols stop arriving.

use crate::ids::{ClientId, EdgeId, NatClass};

/// What the caller tells the last hop about one home node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HomeInfo {
    /// Its stable id (its heartbeat clock's phase derives from it).
    pub id: u32,
    pub region: u16,
    /// Index among the home nodes' ISPs.
    pub isp: u16,
    pub nat: NatClass,
    /// The last-hop stream it serves (index among the last-hop streams)
    /// and its ESI slot.
    pub fstream: u32,
    pub slot: u32,
    /// The edge that feeds it.
    pub edge: EdgeId,
    pub online: bool,
}

/// Tallies of one home node, for the results.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HomeTally {
    pub upload_bytes: u64,
    /// Of `upload_bytes`, what arrived and was taken by a client's open,
    /// undecoded block.
    pub useful_upload_bytes: u64,
    pub download_bytes: u64,
    pub symbols_sent: u64,
    pub symbols_arrived: u64,
    pub symbols_lost: u64,
    /// Sent, arriving after the run's stop.
    pub symbols_in_flight: u64,
    pub sheds: u64,
    pub clients_max: u32,
}

pub(crate) struct HomeAgent {
    pub info: HomeInfo,
    pub online: bool,
    /// Subscribed clients, oldest first (shedding drops from the back).
    pub clients: Vec<ClientId>,
    pub busy_until_ns: u64,
    /// Its own sending since the last block's feed: bytes, and the time
    /// it was busy sending them.
    meter_bytes: u64,
    meter_busy_ns: u64,
    /// Its upload as it knows it: measured from its last sends, or (before
    /// it has sent anything) the figure it registered with.
    known_bps: u64,
    /// Fed its share by its edge now.
    pub fed: bool,
    pub tally: HomeTally,
}

impl HomeAgent {
    pub fn new(info: HomeInfo) -> HomeAgent {
        HomeAgent {
            info,
            online: info.online,
            clients: Vec::new(),
            busy_until_ns: 0,
            meter_bytes: 0,
            meter_busy_ns: 0,
            known_bps: 0,
            fed: false,
            tally: HomeTally::default(),
        }
    }

    /// It should be fed while online with clients.
    pub fn wants_feed(&self) -> bool {
        self.online && !self.clients.is_empty()
    }

    pub fn subscribe(&mut self, c: ClientId) {
        self.clients.push(c);
        self.tally.clients_max = self.tally.clients_max.max(self.clients.len() as u32);
    }

    /// Given each client's ask for the block (in subscription order),
    /// sheds the newest clients until the demand fits `capacity` symbols;
    /// returns how many of the newest were shed (now removed).
    pub fn shed(&mut self, asks: &[u16], capacity: i64) -> usize {
        let mut demand: i64 = asks.iter().map(|&a| a as i64).sum();
        let mut shed = 0;
        while demand > capacity {
            self.clients.pop().expect("demand comes from clients");
            demand -= asks[asks.len() - 1 - shed] as i64;
            shed += 1;
            self.tally.sheds += 1;
        }
        shed
    }

    /// Paces `bytes` out at `upload_bps` (the physics: the model's true
    /// capacity) after whatever it is sending: the time the last bit
    /// leaves. The node measures what it achieved.
    pub fn pace(&mut self, now_ns: u64, bytes: u64, upload_bps: u64) -> u64 {
        let start = self.busy_until_ns.max(now_ns);
        let depart = start + (bytes as u128 * 8 * 1_000_000_000 / upload_bps as u128) as u64;
        self.busy_until_ns = depart;
        self.meter_bytes += bytes;
        self.meter_busy_ns += depart - start;
        depart
    }

    /// The upload it registered (or re-registered) with: what it knows of
    /// itself until it has measured its own sends.
    pub fn registered(&mut self, upload_bps: u64) {
        if self.meter_busy_ns == 0 {
            self.known_bps = upload_bps;
        }
    }

    /// Its upload as it knows it at a new block: the rate of its sends
    /// since the previous one, if it sent any; the measurement restarts.
    pub fn measured_bps(&mut self) -> u64 {
        if self.meter_busy_ns > 0 {
            self.known_bps = (self.meter_bytes as u128 * 8 * 1_000_000_000 / self.meter_busy_ns as u128) as u64;
            (self.meter_bytes, self.meter_busy_ns) = (0, 0);
        }
        self.known_bps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent() -> HomeAgent {
        HomeAgent::new(HomeInfo {
            id: 0,
            region: 0,
            isp: 0,
            nat: NatClass(0),
            fstream: 0,
            slot: 0,
            edge: EdgeId(0),
            online: true,
        })
    }

    #[test]
    fn shedding_drops_the_newest_clients_first() {
        let mut a = agent();
        for c in 0..5 {
            a.subscribe(ClientId(c));
        }
        // Asks 10 each, capacity 32: the two newest go.
        assert_eq!(a.shed(&[10, 10, 10, 10, 10], 32), 2);
        assert_eq!(a.clients, [ClientId(0), ClientId(1), ClientId(2)]);
        assert_eq!((a.tally.sheds, a.tally.clients_max), (2, 5));
        // A demand that fits sheds nobody.
        assert_eq!(a.shed(&[10, 10, 10], 30), 0);
    }

    #[test]
    fn shedding_stops_as_soon_as_the_rest_fits() {
        // The newest asks little: dropping it is enough.
        let mut a = agent();
        for c in 0..3 {
            a.subscribe(ClientId(c));
        }
        assert_eq!(a.shed(&[10, 10, 2], 20), 1);
        assert_eq!(a.clients.len(), 2);
    }

    #[test]
    fn uploads_queue_behind_each_other_at_the_upload_rate() {
        let mut a = agent();
        // 1250 bytes at 10 Mbps: 1 ms each, back to back.
        assert_eq!(a.pace(0, 1250, 10_000_000), 1_000_000);
        assert_eq!(a.pace(0, 1250, 10_000_000), 2_000_000);
        // Idle since: starts at now.
        assert_eq!(a.pace(5_000_000, 1250, 10_000_000), 6_000_000);
    }

    #[test]
    fn the_node_knows_its_upload_from_its_own_sends() {
        let mut a = agent();
        a.registered(20_000_000);
        assert_eq!(a.measured_bps(), 20_000_000, "nothing sent yet: what it registered with");
        // Its capacity drops to 5 Mbps: sends take longer, and only the
        // next block's estimate shows it, whatever it registers meanwhile.
        a.pace(0, 12_500, 5_000_000);
        a.pace(0, 12_500, 5_000_000);
        a.registered(20_000_000);
        assert_eq!(a.measured_bps(), 5_000_000);
        // Nothing sent since: the last measurement stands.
        assert_eq!(a.measured_bps(), 5_000_000);
        // Idle gaps between sends do not count as sending time.
        a.pace(1_000_000_000, 1_250, 10_000_000);
        a.pace(2_000_000_000, 1_250, 10_000_000);
        assert_eq!(a.measured_bps(), 10_000_000);
    }

    #[test]
    fn only_an_online_node_with_clients_is_fed() {
        let mut a = agent();
        assert!(!a.wants_feed());
        a.subscribe(ClientId(0));
        assert!(a.wants_feed());
        a.online = false;
        assert!(!a.wants_feed());
    }
}
