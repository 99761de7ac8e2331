//! Coded packets and their checks.
//!
//! Wire form: a 6-byte header, then the symbol.
//!
//! ```text
//! byte 0      SBN (source block number, block index mod 256)
//! bytes 1-3   ESI, 24-bit big-endian (raptorq's 4-byte payload id)
//! bytes 4-5   K of the block, 16-bit big-endian
//! bytes 6..   the symbol, exactly the block's symbol size
//! ```
//!
//! Carrying K lets a receiver reject a symbol of a differently sized block
//! that happens to share the SBN; raptorq would index out of bounds or
//! mis-decode on it. [`Packet::check`] is the gate in front of raptorq.

use crate::block::{BlockSpec, ESI_LIMIT};
use crate::error::CodecError;

pub const HEADER_BYTES: usize = 6;

/// One encoding symbol with its ids. Fields are public because a packet
/// from the wire is untrusted anyway: receivers call [`Packet::check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    pub sbn: u8,
    pub esi: u32,
    pub k: u16,
    pub payload: Vec<u8>,
}

impl Packet {
    /// The wire form (header + symbol). An ESI of 2^24 or more cannot be
    /// written: encoders never make one, and `check` refuses it.
    pub fn to_bytes(&self) -> Result<Vec<u8>, CodecError> {
        if self.esi >= ESI_LIMIT {
            return Err(CodecError::EsiOutOfRange { esi: self.esi as u64, limit: ESI_LIMIT });
        }
        let mut out = Vec::with_capacity(HEADER_BYTES + self.payload.len());
        out.push(self.sbn);
        out.extend_from_slice(&self.esi.to_be_bytes()[1..]);
        out.extend_from_slice(&self.k.to_be_bytes());
        out.extend_from_slice(&self.payload);
        Ok(out)
    }

    /// Reads the wire form. Only the length is checked here; what the
    /// fields mean for a block is [`Packet::check`]'s job.
    pub fn parse(bytes: &[u8]) -> Result<Packet, CodecError> {
        if bytes.len() < HEADER_BYTES {
            return Err(CodecError::PacketTooShort { len: bytes.len(), header: HEADER_BYTES });
        }
        let esi = u32::from_be_bytes([0, bytes[1], bytes[2], bytes[3]]);
        let k = u16::from_be_bytes([bytes[4], bytes[5]]);
        Ok(Packet { sbn: bytes[0], esi, k, payload: bytes[HEADER_BYTES..].to_vec() })
    }

    /// Everything raptorq would otherwise assert on (or silently get wrong)
    /// for block `spec` travelling as `sbn`: the SBN, K, the ESI range and
    /// the payload length.
    pub fn check(&self, spec: &BlockSpec, sbn: u8) -> Result<(), CodecError> {
        if self.sbn != sbn {
            return Err(CodecError::WrongBlock { expected: sbn, got: self.sbn });
        }
        if self.k != spec.k() {
            return Err(CodecError::WrongK { expected: spec.k(), got: self.k });
        }
        check_esi(self.esi)?;
        let expected = spec.symbol_bytes() as usize;
        if self.payload.len() != expected {
            return Err(CodecError::PayloadLength { expected, got: self.payload.len() });
        }
        Ok(())
    }
}

pub(crate) fn check_esi(esi: u32) -> Result<(), CodecError> {
    if esi >= ESI_LIMIT {
        return Err(CodecError::EsiOutOfRange { esi: esi as u64, limit: ESI_LIMIT });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_round_trip() {
        let p = Packet { sbn: 7, esi: 0x00ab_cdef, k: 300, payload: vec![1, 2, 3] };
        let bytes = p.to_bytes().unwrap();
        assert_eq!(&bytes[..HEADER_BYTES], &[7, 0xab, 0xcd, 0xef, 0x01, 0x2c]);
        assert_eq!(Packet::parse(&bytes).unwrap(), p);
    }

    #[test]
    fn checks_name_the_field() {
        let spec = BlockSpec::new(4 * 16, 16).unwrap();
        let ok = Packet { sbn: 3, esi: 9, k: 4, payload: vec![0; 16] };
        assert_eq!(ok.check(&spec, 3), Ok(()));
        assert_eq!(ok.check(&spec, 4), Err(CodecError::WrongBlock { expected: 4, got: 3 }));
        let p = Packet { k: 5, ..ok.clone() };
        assert_eq!(p.check(&spec, 3), Err(CodecError::WrongK { expected: 4, got: 5 }));
        let p = Packet { esi: ESI_LIMIT, ..ok.clone() };
        assert!(matches!(p.check(&spec, 3), Err(CodecError::EsiOutOfRange { .. })));
        assert!(p.to_bytes().is_err());
        let p = Packet { payload: vec![0; 15], ..ok.clone() };
        assert_eq!(p.check(&spec, 3), Err(CodecError::PayloadLength { expected: 16, got: 15 }));
        assert!(matches!(Packet::parse(&[1, 2, 3]), Err(CodecError::PacketTooShort { len: 3, .. })));
    }
}
