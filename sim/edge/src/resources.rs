//! Capacity vectors: what a machine has, what a pod or session needs.

use std::fmt;

/// Number of resource dimensions.
pub const NUM_RESOURCES: usize = 5;

/// One resource dimension.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Resource {
    /// CPU, in millicores.
    Cpu = 0,
    /// Memory, in bytes.
    Memory = 1,
    /// Network bandwidth, in bits per second.
    Bandwidth = 2,
    /// Packets per second.
    Pps = 3,
    /// Host ports: with host networking (the talk's choice) every media
    /// server needs ports of its own on the machine.
    HostPorts = 4,
}

impl Resource {
    /// All dimensions in index order.
    pub const ALL: [Resource; NUM_RESOURCES] =
        [Resource::Cpu, Resource::Memory, Resource::Bandwidth, Resource::Pps, Resource::HostPorts];

    /// The name with its unit, as in [`Resources`]' fields.
    pub fn name(self) -> &'static str {
        match self {
            Resource::Cpu => "cpu_millis",
            Resource::Memory => "memory_bytes",
            Resource::Bandwidth => "bandwidth_bps",
            Resource::Pps => "pps",
            Resource::HostPorts => "host_ports",
        }
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A capacity or demand vector. Integers, so sums are exact and
/// independent of order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Resources {
    /// CPU, millicores.
    pub cpu_millis: u64,
    /// Memory, bytes.
    pub memory_bytes: u64,
    /// Bandwidth, bits per second.
    pub bandwidth_bps: u64,
    /// Packets per second.
    pub pps: u64,
    /// Host ports.
    pub host_ports: u64,
}

impl Resources {
    /// Nothing.
    pub const ZERO: Resources = Resources { cpu_millis: 0, memory_bytes: 0, bandwidth_bps: 0, pps: 0, host_ports: 0 };

    /// A vector from its five components.
    pub const fn new(cpu_millis: u64, memory_bytes: u64, bandwidth_bps: u64, pps: u64, host_ports: u64) -> Self {
        Resources { cpu_millis, memory_bytes, bandwidth_bps, pps, host_ports }
    }

    /// Components in [`Resource`] index order.
    #[inline]
    pub const fn to_array(self) -> [u64; NUM_RESOURCES] {
        [self.cpu_millis, self.memory_bytes, self.bandwidth_bps, self.pps, self.host_ports]
    }

    /// From components in [`Resource`] index order.
    #[inline]
    pub const fn from_array(a: [u64; NUM_RESOURCES]) -> Self {
        Resources { cpu_millis: a[0], memory_bytes: a[1], bandwidth_bps: a[2], pps: a[3], host_ports: a[4] }
    }

    /// One component.
    #[inline]
    pub fn get(&self, r: Resource) -> u64 {
        self.to_array()[r as usize]
    }

    /// `self + other`, or `None` on overflow.
    pub fn checked_add(self, other: Resources) -> Option<Resources> {
        let (a, b) = (self.to_array(), other.to_array());
        let mut out = [0u64; NUM_RESOURCES];
        for i in 0..NUM_RESOURCES {
            out[i] = a[i].checked_add(b[i])?;
        }
        Some(Resources::from_array(out))
    }

    /// `self - other`, or the first dimension where `other` is larger.
    pub fn checked_sub(self, other: Resources) -> Result<Resources, Resource> {
        let (a, b) = (self.to_array(), other.to_array());
        let mut out = [0u64; NUM_RESOURCES];
        for i in 0..NUM_RESOURCES {
            out[i] = a[i].checked_sub(b[i]).ok_or(Resource::ALL[i])?;
        }
        Ok(Resources::from_array(out))
    }

    /// `self - other`, each component floored at 0.
    pub fn saturating_sub(self, other: Resources) -> Resources {
        let (a, b) = (self.to_array(), other.to_array());
        let mut out = [0u64; NUM_RESOURCES];
        for i in 0..NUM_RESOURCES {
            out[i] = a[i].saturating_sub(b[i]);
        }
        Resources::from_array(out)
    }

    /// `self * n`, each component saturating.
    pub fn scale(self, n: u64) -> Resources {
        Resources::from_array(self.to_array().map(|x| x.saturating_mul(n)))
    }

    /// Componentwise maximum.
    pub fn max(self, other: Resources) -> Resources {
        let (a, b) = (self.to_array(), other.to_array());
        Resources::from_array(std::array::from_fn(|i| a[i].max(b[i])))
    }

    /// `Ok` when `self` fits in `free` in every dimension, else the first
    /// dimension (in [`Resource`] order) that does not.
    #[inline]
    pub fn fits(&self, free: &Resources) -> Result<(), Resource> {
        fits_array(&self.to_array(), &free.to_array())
    }

    /// `self / capacity` per dimension. A dimension with zero capacity has
    /// ratio 0 when unused and infinity when used.
    pub fn ratios(&self, capacity: &Resources) -> [f64; NUM_RESOURCES] {
        let (a, c) = (self.to_array(), capacity.to_array());
        std::array::from_fn(|i| ratio(a[i], c[i]))
    }

    /// The largest ratio to `capacity` and its dimension (the lowest index
    /// on ties): the dominant share.
    pub fn max_ratio(&self, capacity: &Resources) -> (Resource, f64) {
        let r = self.ratios(capacity);
        let mut best = (Resource::Cpu, r[0]);
        for i in 1..NUM_RESOURCES {
            if r[i] > best.1 {
                best = (Resource::ALL[i], r[i]);
            }
        }
        best
    }

    /// True when every component is zero.
    pub fn is_zero(&self) -> bool {
        self.to_array().iter().all(|&x| x == 0)
    }
}

pub(crate) fn ratio(used: u64, cap: u64) -> f64 {
    if cap == 0 {
        if used == 0 { 0.0 } else { f64::INFINITY }
    } else {
        used as f64 / cap as f64
    }
}

/// The hot-path fit check on raw arrays.
#[inline]
pub(crate) fn fits_array(need: &[u64; NUM_RESOURCES], free: &[u64; NUM_RESOURCES]) -> Result<(), Resource> {
    for i in 0..NUM_RESOURCES {
        if need[i] > free[i] {
            return Err(Resource::ALL[i]);
        }
    }
    Ok(())
}

impl fmt::Display for Resources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{{cpu_millis: {}, memory_bytes: {}, bandwidth_bps: {}, pps: {}, host_ports: {}}}",
            self.cpu_millis, self.memory_bytes, self.bandwidth_bps, self.pps, self.host_ports
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_sub_fits_ratio() {
        let cap = Resources::new(8000, 16 << 30, 10_000_000_000, 1_000_000, 100);
        let pod = Resources::new(2000, 4 << 30, 1_000_000_000, 250_000, 10);
        let four = pod.scale(4);
        assert_eq!(four.fits(&cap), Ok(()));
        let five = four.checked_add(pod).unwrap();
        // 5 pods: CPU 10 000 > 8 000 is the first dimension that breaks.
        assert_eq!(five.fits(&cap), Err(Resource::Cpu));
        assert_eq!(cap.checked_sub(five), Err(Resource::Cpu));
        assert_eq!(cap.checked_sub(four).unwrap(), Resources::new(0, 0, 6_000_000_000, 0, 60));
        let (r, x) = four.max_ratio(&cap);
        assert_eq!(r, Resource::Cpu);
        assert_eq!(x, 1.0);
        assert_eq!(pod.ratios(&cap)[2], 0.1);
        assert!(Resources::new(1, 0, 0, 0, 0).ratios(&Resources::ZERO)[0].is_infinite());
        assert_eq!(Resources::new(u64::MAX, 0, 0, 0, 0).checked_add(pod), None);
    }
}
