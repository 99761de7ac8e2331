//! Full fidelity: real bytes round trip, corruption is caught, malformed
//! input never reaches raptorq, and structural decodes exactly when full
//! does.

use cdnsim_codec::{
    BlockEncoder, BlockSpec, CodecError, FullReceiver, HEADER_BYTES, Packet, PlanCache, Receipt, ShareLayout,
    SplitMix64, StructuralDecoder, StructuralReceiver,
};
use proptest::prelude::*;

fn block_bytes(rng: &mut SplitMix64, n: usize) -> Vec<u8> {
    (0..n).map(|_| rng.next_u64() as u8).collect()
}

/// A 1 Mbps stream in 1-second blocks of 1 KiB symbols (K = 123, last
/// symbol padded), sent by eight home-node slots with 10% loss plus the
/// server's first ten source symbols, over the wire form.
#[test]
fn full_round_trip_verifies_bytes() {
    let spec = BlockSpec::for_stream(1_000_000, 1_000_000_000, 1024).unwrap();
    assert_eq!((spec.k(), spec.block_bytes()), (123, 125_000));
    let layout = ShareLayout::new(spec.k(), 8, spec.k() as u32).unwrap();
    let mut plans = PlanCache::default();
    let mut rng = SplitMix64::new(5);
    for block in 0..6u64 {
        let source = block_bytes(&mut rng, spec.block_bytes() as usize);
        let enc = BlockEncoder::new(spec, block, source.clone(), &mut plans).unwrap();
        let mut rx = FullReceiver::new(spec, block);
        let mut packets = enc.packets(0..10).unwrap();
        for slot in 0..layout.slots() {
            let r = layout.slot_range(slot).unwrap();
            packets.extend(enc.packets(r.start..r.start + 20).unwrap());
        }
        // Interleave senders as a client pulling in parallel would see them.
        packets.sort_by_key(|p| (layout.owner(p.esi) != cdnsim_codec::Owner::Source, p.esi % 20, p.esi));
        let (mut decoded_at, mut stored) = (None, 0);
        for p in packets {
            if rng.below(10) == 0 {
                continue; // lost
            }
            let wire = p.to_bytes().unwrap();
            match rx.receive_bytes(&wire).unwrap() {
                Receipt::Stored => stored += 1,
                Receipt::Decoded => decoded_at = Some(stored + 1),
                Receipt::AfterDecode => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        let n = decoded_at.expect("170 symbols sent at 10% loss decode");
        assert!(n >= spec.k() as usize, "decoded from {n} < K symbols");
        assert_eq!(rx.decoded_bytes().unwrap().len(), 125_000);
        rx.verify(&source).unwrap();
        assert_eq!(rx.distinct_symbols(), 0, "symbols are released after decoding");
    }
    assert_eq!(plans.generated(), 1, "one plan for one K");
}

#[test]
fn batch_decodes_once_and_reports_waste() {
    let spec = BlockSpec::new(50 * 64, 64).unwrap();
    let mut plans = PlanCache::default();
    let source = block_bytes(&mut SplitMix64::new(1), 50 * 64);
    let enc = BlockEncoder::new(spec, 300, source.clone(), &mut plans).unwrap();
    let mut rx = FullReceiver::new(spec, 300);
    let t = rx.receive_batch(enc.packets(60..100).unwrap()).unwrap();
    assert_eq!((t.stored, t.decoded), (40, false));
    assert_eq!(rx.attempts(), 0, "no attempt below K");
    let mut more = enc.packets(95..115).unwrap();
    more.extend(enc.packets(0..3).unwrap());
    let t = rx.receive_batch(more).unwrap();
    assert_eq!((t.stored, t.duplicates), (18, 5));
    assert!(t.decoded, "58 distinct symbols for K = 50");
    assert_eq!(rx.attempts(), 1);
    rx.verify(&source).unwrap();
    let t = rx.receive_batch(enc.packets(200..204).unwrap()).unwrap();
    assert_eq!(t.after_decode, 4);
    assert_eq!(rx.receive(enc.packet(7).unwrap()).unwrap(), Receipt::AfterDecode);
}

#[test]
fn corrupted_symbol_is_a_reported_mismatch() {
    let spec = BlockSpec::new(20 * 32, 32).unwrap();
    let mut plans = PlanCache::default();
    let source = block_bytes(&mut SplitMix64::new(2), 20 * 32);
    let enc = BlockEncoder::new(spec, 0, source.clone(), &mut plans).unwrap();
    let mut rx = FullReceiver::new(spec, 0);
    assert!(matches!(rx.verify(&source), Err(CodecError::NotDecoded { .. })));
    let mut packets = enc.packets(0..20).unwrap();
    packets[3].payload[5] ^= 0x40; // passes every check, wrong content
    rx.receive_batch(packets).unwrap();
    assert_eq!(rx.verify(&source), Err(CodecError::Mismatch { block_index: 0, offset: 3 * 32 + 5 }));
    // A wrong-length source is a mismatch too.
    let mut rx = FullReceiver::new(spec, 0);
    rx.receive_batch(enc.packets(100..122).unwrap()).unwrap();
    rx.verify(&source).unwrap();
    assert!(matches!(rx.verify(&source[..100]), Err(CodecError::Mismatch { offset: 100, .. })));
}

#[test]
fn a_bad_packet_rejects_its_batch_and_changes_nothing() {
    let spec = BlockSpec::new(10 * 8, 8).unwrap();
    let mut plans = PlanCache::default();
    let enc = BlockEncoder::new(spec, 1, vec![7; 80], &mut plans).unwrap();
    let mut rx = FullReceiver::new(spec, 1);
    let mut packets = enc.packets(0..10).unwrap();
    packets[9].sbn = 2;
    assert_eq!(rx.receive_batch(packets), Err(CodecError::WrongBlock { expected: 1, got: 2 }));
    assert_eq!(rx.distinct_symbols(), 0);
    // A packet of another block with the same SBN but another K.
    let other = BlockSpec::new(11 * 8, 8).unwrap();
    let enc2 = BlockEncoder::new(other, 257, vec![1; 88], &mut plans).unwrap();
    assert_eq!(rx.receive(enc2.packet(0).unwrap()), Err(CodecError::WrongK { expected: 10, got: 11 }));
    // A packet with a short payload.
    let mut p = enc.packet(12).unwrap();
    p.payload.pop();
    assert_eq!(rx.receive(p), Err(CodecError::PayloadLength { expected: 8, got: 7 }));
}

/// Structural decoding (1-byte zero symbols) decides exactly as the full
/// decoder on real bytes, set by set. K = 4 and 10 with K or K + 1 random
/// repair symbols fail often enough (~0.5-1% at K) to compare failures too.
#[test]
fn structural_decodes_exactly_when_full_does() {
    let mut plans = PlanCache::default();
    let mut rng = SplitMix64::new(11);
    let mut dec = StructuralDecoder::new(0);
    let (mut failures, mut trials) = (0, 0);
    for k in [4u16, 10] {
        let spec = BlockSpec::new(k as u64 * 16, 16).unwrap();
        for block in 0..1500u64 {
            let source = block_bytes(&mut rng, spec.block_bytes() as usize);
            let enc = BlockEncoder::new(spec, block, source.clone(), &mut plans).unwrap();
            let n = k as usize + rng.below(2) as usize;
            let mut esis: Vec<u32> = Vec::new();
            while esis.len() < n {
                let esi = rng.below(3 * k as u64) as u32;
                if !esis.contains(&esi) {
                    esis.push(esi);
                }
            }
            let mut full = FullReceiver::new(spec, block);
            let mut structural = StructuralReceiver::new(k).unwrap();
            full.receive_batch(esis.iter().map(|&e| enc.packet(e).unwrap()).collect()).unwrap();
            structural.receive_batch(&esis, &mut dec).unwrap();
            assert_eq!(full.is_decoded(), structural.is_decoded(), "K={k} ESIs {esis:?}");
            if full.is_decoded() {
                full.verify(&source).unwrap();
            }
            failures += !full.is_decoded() as u32;
            trials += 1;
        }
    }
    assert!(failures >= 3, "only {failures} failures in {trials} trials: the comparison saw too few");
}

#[test]
fn structural_shortcuts_and_memo() {
    let mut dec = StructuralDecoder::new(64);
    let k = 30u16;
    // All source symbols: no solve.
    let mut rx = StructuralReceiver::new(k).unwrap();
    let all: Vec<u32> = (0..30).collect();
    assert!(rx.receive_batch(&all, &mut dec).unwrap().decoded);
    assert_eq!((dec.stats().source_shortcuts, dec.stats().solves), (1, 0));
    // Identical sets from identical senders: one solve, then memo hits.
    let esis: Vec<u32> = (100..132).collect();
    for _ in 0..5 {
        let mut rx = StructuralReceiver::new(k).unwrap();
        for &e in &esis {
            rx.receive(e, &mut dec).unwrap();
            if rx.is_decoded() {
                break;
            }
        }
        assert!(rx.is_decoded());
    }
    let s = dec.stats();
    assert!(s.solves >= 1 && s.solves <= 3, "{s:?}");
    assert_eq!(s.memo_hits + s.solves + s.source_shortcuts, s.decisions);
    assert!(s.memo_hits >= 4, "{s:?}");
    // The memo stays within its bound.
    for start in 0..200u32 {
        let set: Vec<u32> = (1000 + start..1000 + start + 30).collect();
        dec.decodable(k, &set).unwrap();
    }
    assert!(dec.stats().solves >= 200);
    assert!(matches!(dec.decodable(k, &[5, 3]), Err(CodecError::EsiOrder { previous: 5, esi: 3 })));
}

fn small_block() -> (BlockSpec, BlockEncoder) {
    let spec = BlockSpec::new(12 * 8 - 3, 8).unwrap();
    let enc = BlockEncoder::new(spec, 9, (0..93).collect(), &mut PlanCache::default()).unwrap();
    (spec, enc)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Random bytes off the wire never panic the receiver.
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
        let (spec, _) = small_block();
        let mut rx = FullReceiver::new(spec, 9);
        let _ = rx.receive_bytes(&bytes);
    }

    /// Random fields, and random headers in front of valid-length payloads
    /// (which reach the decoder more often), never panic either; what is
    /// accepted is exactly what passes the checks.
    #[test]
    fn random_packets_never_panic(
        headers in proptest::collection::vec((any::<u8>(), any::<u32>(), 10u16..14, 6usize..10), 1..40),
    ) {
        let (spec, enc) = small_block();
        let mut rx = FullReceiver::new(spec, 9);
        for (sbn, esi, k, len) in headers {
            let esi = esi % 64 + if esi % 7 == 0 { 1 << 24 } else { 0 };
            let payload = enc.packet(esi % 64).unwrap().payload[..len.min(8)].to_vec();
            let p = Packet { sbn: if sbn % 2 == 0 { 9 } else { sbn }, esi, k, payload };
            let valid = p.check(&spec, 9).is_ok();
            prop_assert_eq!(rx.receive(p).is_ok(), valid);
        }
        let mut wire = vec![9, 0, 0, 1, 0, 12];
        wire.extend_from_slice(&[0; 8]);
        prop_assert_eq!(wire.len(), HEADER_BYTES + 8);
        prop_assert!(rx.receive_bytes(&wire).is_ok());
    }

    /// Random ESI streams never panic the structural receiver, and anything
    /// at or beyond 2^24 is refused.
    #[test]
    fn random_esis_never_panic(esis in proptest::collection::vec(any::<u32>(), 0..80), k in 1u16..40) {
        let mut dec = StructuralDecoder::new(16);
        let mut rx = StructuralReceiver::new(k).unwrap();
        for esi in esis {
            let esi = if esi % 3 == 0 { esi } else { esi % 128 };
            prop_assert_eq!(rx.receive(esi, &mut dec).is_ok(), esi < (1 << 24));
        }
    }
}
