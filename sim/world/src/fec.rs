//! Forward error correction on the internal links of hot streams
//! (`[routing] hot_redundancy = { fec = overhead }`), the alternative to
//! pushing them over two disjoint paths.
//!
//! The model is an MDS erasure code per block per hop. A node relaying a
//! hot stream over an IDC-to-IDC link sends each block's K source chunks
//! as they come and, once it has sent all K on that hop, R repair chunks
//! of the full chunk size, where R is the overhead times the block's bytes
//! in whole chunks, rounded up ([`repair_chunks`]): the link carries at
//! least (1 + overhead) x the stream's bytes. Any K of the K + R packets
//! rebuild the block (the MDS property; a fountain code comes within a
//! packet or two of it). So when the packets of a block lost or dropped on
//! the hop number at most R, the receiver rebuilds every lost source chunk
//! as soon as its K-th packet arrives, with no retransmission; otherwise
//! the lost source chunks fall back to retransmission, which the receiver
//! asks for once the block's last packet is due (the request takes the
//! link's latency). A block whose K source chunks never all pass the hop
//! (a subscription that began mid-block, a chunk given up upstream) gets no
//! repair: its losses fall back to retransmission once a chunk
//! [`OPEN_BLOCKS`] blocks newer is sent on the hop. Only first sendings on
//! a hop take part; retransmissions travel plain.
//!
//! What is not modelled: the coding delay of a real encoder (repair is
//! sent the moment the last source chunk is), and losses on a link that
//! fails while a packet is on it (those chunks are retransmitted, as on any
//! hop).

use cdnsim_engine::SimTime;

/// Blocks of one stream a hop keeps open: a block still short when a chunk
/// this many blocks newer is sent will never complete there.
pub const OPEN_BLOCKS: u32 = 2;

/// Repair chunks per block: `overhead` x `block_bytes`, in chunks of
/// `chunk_bytes`, rounded up (at least one).
pub fn repair_chunks(overhead: f64, block_bytes: u64, chunk_bytes: u64) -> u32 {
    // The small epsilon keeps an exact multiple (0.25 of 4 chunks) from
    // rounding up on floating-point noise.
    ((overhead * block_bytes as f64 / chunk_bytes as f64) - 1e-9).ceil().max(1.0) as u32
}

/// The MDS rule: K source and `repair` repair packets, `lost` of them lost
/// on the hop; the block is rebuilt from any K.
pub fn decodable(lost: u32, repair: u32) -> bool {
    lost <= repair
}

/// A source chunk lost (or dropped at a full queue) on an FEC hop, waiting
/// for its block's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lost {
    pub index: u16,
    /// IDC hops the chunk had taken before this one.
    pub hops: u8,
    /// When it left the sender.
    pub depart: SimTime,
}

/// One block of a hot stream on one direction of a link: which source
/// chunks the sender has sent there, and which of them were lost.
#[derive(Clone, Debug)]
pub struct FecBlock {
    pub from: u32,
    pub to: u32,
    sent: Vec<u64>,
    count: u16,
    pub lost: Vec<Lost>,
}

impl FecBlock {
    pub fn new(from: u32, to: u32, chunks_per_block: u16) -> Self {
        FecBlock { from, to, sent: vec![0; (chunks_per_block as usize).div_ceil(64)], count: 0, lost: Vec::new() }
    }

    /// Records the first sending of chunk `index` on the hop; false when it
    /// was sent there before (that copy travels plain, outside the code).
    pub fn first_sending(&mut self, index: u16) -> bool {
        let (w, b) = (index as usize / 64, index as usize % 64);
        if self.sent[w] & (1 << b) != 0 {
            return false;
        }
        self.sent[w] |= 1 << b;
        self.count += 1;
        true
    }

    /// Every source chunk of the block has been sent on the hop.
    pub fn complete(&self, chunks_per_block: u16) -> bool {
        self.count == chunks_per_block
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repair_rounds_up_to_whole_chunks() {
        // 1 Mbps, 1 s blocks, 16 KiB chunks: 125 000 B in 8 chunks.
        assert_eq!(repair_chunks(0.25, 125_000, 16_384), 2);
        assert_eq!(repair_chunks(0.01, 125_000, 16_384), 1);
        assert_eq!(repair_chunks(0.25, 4 * 1000, 1000), 1, "exactly one chunk");
        assert_eq!(repair_chunks(1.0, 8 * 1000, 1000), 8);
        assert!(decodable(2, 2) && !decodable(3, 2));
    }

    #[test]
    fn a_block_counts_each_chunk_once() {
        let mut b = FecBlock::new(1, 2, 3);
        assert!(b.first_sending(0));
        assert!(!b.first_sending(0), "a second copy is not part of the code");
        assert!(b.first_sending(2));
        assert!(!b.complete(3));
        assert!(b.first_sending(1));
        assert!(b.complete(3));
    }

    /// The recovery rate the MDS rule gives over Bernoulli losses is the
    /// binomial tail P(Binomial(K + R, p) <= R), within 4 standard errors.
    #[test]
    fn recovery_rate_is_the_binomial_tail() {
        use rand::Rng;
        let (k, r, p) = (8u32, 2u32, 0.05f64);
        let n = k + r;
        let choose = |n: u32, i: u32| (0..i).fold(1.0, |acc, j| acc * (n - j) as f64 / (j + 1) as f64);
        let expected: f64 = (0..=r).map(|i| choose(n, i) * p.powi(i as i32) * (1.0 - p).powi((n - i) as i32)).sum();
        let mut rng = cdnsim_engine::stream(11, "fec.test");
        let trials = 20_000;
        let ok = (0..trials).filter(|_| decodable((0..n).filter(|_| rng.random::<f64>() < p).count() as u32, r)).count();
        let rate = ok as f64 / trials as f64;
        let se = (expected * (1.0 - expected) / trials as f64).sqrt();
        assert!((rate - expected).abs() < 4.0 * se, "{rate} vs {expected} (se {se})");
    }
}
