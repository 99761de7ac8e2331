//! Named random streams.
//!
//! Every random process in a run (viewer arrivals, the loss on one link, ...)
//! draws from its own stream, so adding a process or a node never shifts the
//! draws of another. A stream's seed is a stable hash of (run seed, stream
//! name[, index]); the algorithm is written here, not borrowed from `std`,
//! whose hasher and `StdRng` may change between releases.
//!
//! Algorithm (fixed; changing it changes every result):
//! 1. `h = FNV-1a-64(name bytes)`; for an indexed stream, the index's 8
//!    little-endian bytes are hashed after the name, behind a 0xff separator
//!    byte that no UTF-8 name contains.
//! 2. `s = splitmix64(run_seed ^ splitmix64(h))`.
//! 3. The generator is Xoshiro256++ (rand_xoshiro), its four state words the
//!    next four outputs of a SplitMix64 sequence started at `s`.

use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::SeedableRng;

/// The generator behind every stream.
pub type RngStream = Xoshiro256PlusPlus;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv1a(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

/// SplitMix64's output function (Steele, Lea, Flood 2014).
pub fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn mix(run_seed: u64, h: u64) -> u64 {
    splitmix64(run_seed ^ splitmix64(h))
}

/// FNV-1a 64 of `bytes`: a hash that never changes between releases or
/// machines, for names that must be stable (stream seeds, run ids).
pub fn stable_hash64(bytes: &[u8]) -> u64 {
    fnv1a(FNV_OFFSET, bytes)
}

/// The 64-bit seed of stream `name` in a run seeded with `run_seed`.
pub fn stream_seed(run_seed: u64, name: &str) -> u64 {
    mix(run_seed, fnv1a(FNV_OFFSET, name.as_bytes()))
}

fn generator(seed: u64) -> RngStream {
    let mut bytes = [0u8; 32];
    for (i, chunk) in bytes.chunks_exact_mut(8).enumerate() {
        let word = splitmix64(seed.wrapping_add((i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)));
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    RngStream::from_seed(bytes)
}

/// The stream `name` of a run.
pub fn stream(run_seed: u64, name: &str) -> RngStream {
    generator(stream_seed(run_seed, name))
}

/// Stream `index` of a family (`"link.loss"`, link 7): one stream per entity
/// without formatting a string per entity.
pub fn stream_indexed(run_seed: u64, name: &str, index: u64) -> RngStream {
    let h = fnv1a(fnv1a(FNV_OFFSET, name.as_bytes()), &[0xff]);
    generator(mix(run_seed, fnv1a(h, &index.to_le_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    fn draws(mut r: RngStream) -> Vec<u64> {
        (0..8).map(|_| r.random()).collect()
    }

    #[test]
    fn algorithm_is_pinned() {
        // Golden values: if these change, every result file changes. Update
        // them only on purpose, together with a note in the changelog.
        assert_eq!(stream_seed(42, "viewers.arrivals"), GOLDEN_SEED);
        assert_eq!(draws(stream(42, "viewers.arrivals"))[0], GOLDEN_FIRST);
    }

    // Computed by an independent implementation of the documented algorithm
    // (a few lines of Python: FNV-1a, SplitMix64, Xoshiro256++ from their
    // papers), so this also checks the code matches its documentation.
    const GOLDEN_SEED: u64 = 15027679723068261607;
    const GOLDEN_FIRST: u64 = 15279363198212081143;

    #[test]
    fn streams_are_distinct_and_reproducible() {
        assert_eq!(draws(stream(1, "a")), draws(stream(1, "a")));
        assert_ne!(draws(stream(1, "a")), draws(stream(1, "b")));
        assert_ne!(draws(stream(1, "a")), draws(stream(2, "a")));
        assert_ne!(draws(stream_indexed(1, "a", 0)), draws(stream_indexed(1, "a", 1)));
        assert_ne!(draws(stream_indexed(1, "a", 0)), draws(stream(1, "a")));
    }

    #[test]
    fn adding_a_stream_does_not_change_another() {
        // Streams are independent generators, not slices of a shared one:
        // draining a new stream first leaves an existing stream's draws as
        // they were.
        let alone = draws(stream(7, "link.loss"));
        let mut other = stream(7, "new.process");
        for _ in 0..1000 {
            let _: u64 = other.random();
        }
        assert_eq!(draws(stream(7, "link.loss")), alone);
    }
}
