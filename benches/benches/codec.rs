//! The codec crate (`sim/codec`) against raptorq used directly, block by
//! block (benches/README.md has the figures):
//!
//! - encode: one block encoded with a cached plan, then 50 repair symbols;
//! - decode: one block from K + 2 repair symbols (one batch, one solve),
//!   and K = 122 from K - 10 source + 12 repair symbols;
//! - structural: the decision "does this ESI set decode" at K = 122 with a
//!   solve on 1-byte symbols, a memo hit, and all source symbols present,
//!   and the model's table lookup.
//!
//! Each `crate/...` benchmark has a `raptorq/...` twin doing the same work
//! through raptorq's own API, so their ratio is the wrapper's overhead
//! (checks, duplicate tracking, packet re-wrapping). Inputs are built
//! outside the timed part and every pass is checked to decode.

use std::time::Duration;

use cdnsim_codec::{
    BlockEncoder, BlockSpec, DecodeRow, DecodeTable, FullReceiver, ModelReceiver, Packet, PlanCache, SplitMix64,
    StructuralDecoder,
};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use raptorq::{
    EncodingPacket, ObjectTransmissionInformation, PayloadId, SourceBlockDecoder, SourceBlockEncoder,
    SourceBlockEncodingPlan,
};

const T: u64 = 1024;
const REPAIR: u32 = 50;

fn block(k: u16) -> (BlockSpec, Vec<u8>) {
    let spec = BlockSpec::new(k as u64 * T, T).unwrap();
    let mut rng = SplitMix64::new(k as u64);
    (spec, (0..spec.block_bytes()).map(|_| rng.next_u64() as u8).collect())
}

fn oti(k: u16, t: u64) -> ObjectTransmissionInformation {
    ObjectTransmissionInformation::new(k as u64 * t, t as u16, 1, 1, 1)
}

fn raw(packets: &[Packet]) -> Vec<EncodingPacket> {
    packets.iter().map(|p| EncodingPacket::new(PayloadId::new(p.sbn, p.esi), p.payload.clone())).collect()
}

fn encode(c: &mut Criterion) {
    let mut g = c.benchmark_group("codec/encode");
    g.warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    for k in [122u16, 1000] {
        let (spec, data) = block(k);
        g.throughput(Throughput::Bytes(spec.block_bytes()));
        let mut plans = PlanCache::default();
        BlockEncoder::new(spec, 0, data.clone(), &mut plans).unwrap();
        g.bench_with_input(BenchmarkId::new("crate", k), &k, |b, _| {
            b.iter_batched(
                || data.clone(),
                |d| {
                    let enc = BlockEncoder::new(spec, 0, d, &mut plans).unwrap();
                    enc.packets(k as u32..k as u32 + REPAIR).unwrap()
                },
                BatchSize::LargeInput,
            )
        });
        let plan = SourceBlockEncodingPlan::generate(k);
        let config = oti(k, T);
        g.bench_with_input(BenchmarkId::new("raptorq", k), &k, |b, _| {
            b.iter_batched(
                || data.clone(),
                |d| {
                    let enc = SourceBlockEncoder::with_encoding_plan(0, &config, &d, &plan);
                    (enc.repair_packets(0, REPAIR), d)
                },
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

fn decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("codec/decode");
    g.warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    let mut plans = PlanCache::default();
    let mut cases = Vec::new();
    for k in [122u16, 1000] {
        let (spec, data) = block(k);
        let enc = BlockEncoder::new(spec, 0, data.clone(), &mut plans).unwrap();
        let repair = enc.packets(k as u32 + 100..2 * k as u32 + 102).unwrap();
        cases.push((format!("{k}-repair"), spec, data, repair));
        if k == 122 {
            let mut mixed = enc.packets(10..k as u32).unwrap();
            mixed.extend(enc.packets(k as u32 + 500..k as u32 + 512).unwrap());
            let (spec, data) = block(k);
            cases.push((format!("{k}-mixed"), spec, data, mixed));
        }
    }
    for (name, spec, data, packets) in cases {
        let k = spec.k();
        g.throughput(Throughput::Bytes(spec.block_bytes()));
        let mut check = FullReceiver::new(spec, 0);
        assert!(check.receive_batch(packets.clone()).unwrap().decoded, "{name}: the set must decode");
        check.verify(&data).unwrap();
        g.bench_function(BenchmarkId::new("crate", &name), |b| {
            b.iter_batched(
                || packets.clone(),
                |p| {
                    let mut rx = FullReceiver::new(spec, 0);
                    assert!(rx.receive_batch(p).unwrap().decoded);
                    rx
                },
                BatchSize::LargeInput,
            )
        });
        let config = oti(k, T);
        g.bench_function(BenchmarkId::new("raptorq", &name), |b| {
            b.iter_batched(
                || raw(&packets),
                |p| {
                    let mut dec = SourceBlockDecoder::new(0, &config, k as u64 * T);
                    dec.decode(p).expect("decodes")
                },
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

fn structural(c: &mut Criterion) {
    let mut g = c.benchmark_group("codec/structural");
    g.warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    let k = 122u16;
    let repair: Vec<u32> = (k as u32 + 100..2 * k as u32 + 102).collect();
    let source: Vec<u32> = (0..k as u32).collect();
    let mut no_memo = StructuralDecoder::new(0);
    assert!(no_memo.decodable(k, &repair).unwrap());
    g.bench_function("crate/solve-122", |b| b.iter(|| assert!(no_memo.decodable(k, &repair).unwrap())));
    let config = oti(k, 1);
    g.bench_function("raptorq/solve-122-T1", |b| {
        b.iter_batched(
            || repair.iter().map(|&e| EncodingPacket::new(PayloadId::new(0, e), vec![0])).collect::<Vec<_>>(),
            |p| SourceBlockDecoder::new(0, &config, k as u64).decode(p).expect("decodes"),
            BatchSize::SmallInput,
        )
    });
    let mut memo = StructuralDecoder::default();
    memo.decodable(k, &repair).unwrap();
    g.bench_function("crate/memo-hit-122", |b| b.iter(|| assert!(memo.decodable(k, &repair).unwrap())));
    g.bench_function("crate/all-source-122", |b| b.iter(|| assert!(memo.decodable(k, &source).unwrap())));
    let table = DecodeTable::from_rows(&[
        DecodeRow { k: 100, extra: 0, trials: 1000, failures: 6 },
        DecodeRow { k: 200, extra: 0, trials: 1000, failures: 5 },
    ])
    .unwrap();
    g.bench_function("crate/model-block-122", |b| {
        b.iter(|| {
            let mut rx = ModelReceiver::new(k, 0.5).unwrap();
            assert!(rx.receive_batch(&repair, &table).unwrap().decoded);
        })
    });
    g.finish();
}

criterion_group!(benches, encode, decode, structural);
criterion_main!(benches);
