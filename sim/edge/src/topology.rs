//! Regions, edge rooms and the N-k (N-2) capacity check.
//!
//! The topology is static for a run: rooms belong to one region each.
//! Machines live in the [`Cluster`](crate::Cluster), which knows their room.

use crate::error::{EdgeError, invalid};
use crate::ids::{RegionId, RoomId};
use crate::resources::{NUM_RESOURCES, Resource, Resources};

/// Bound on regions.
pub const MAX_REGIONS: usize = 4_096;
/// Bound on rooms (the talk runs 500+ rooms worldwide:
/// docs/references.md, Room count).
pub const MAX_ROOMS: usize = 65_536;

/// Regions and their rooms.
#[derive(Clone, Debug, Default)]
pub struct Topology {
    region_names: Vec<String>,
    region_rooms: Vec<Vec<RoomId>>,
    room_region: Vec<RegionId>,
    room_names: Vec<String>,
}

impl Topology {
    /// An empty topology.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a region.
    pub fn add_region(&mut self, name: impl Into<String>) -> Result<RegionId, EdgeError> {
        if self.region_names.len() >= MAX_REGIONS {
            return Err(EdgeError::BoundExceeded { model: "topology", what: "regions", bound: MAX_REGIONS });
        }
        self.region_names.push(name.into());
        self.region_rooms.push(Vec::new());
        Ok(RegionId(self.region_names.len() as u32 - 1))
    }

    /// Adds a room to `region`.
    pub fn add_room(&mut self, region: RegionId, name: impl Into<String>) -> Result<RoomId, EdgeError> {
        if region.index() >= self.region_names.len() {
            return Err(EdgeError::Unknown { model: "topology", what: "region", id: region.to_string() });
        }
        if self.room_region.len() >= MAX_ROOMS {
            return Err(EdgeError::BoundExceeded { model: "topology", what: "rooms", bound: MAX_ROOMS });
        }
        let id = RoomId(self.room_region.len() as u32);
        self.room_region.push(region);
        self.room_names.push(name.into());
        self.region_rooms[region.index()].push(id);
        Ok(id)
    }

    /// Number of regions.
    pub fn num_regions(&self) -> usize {
        self.region_names.len()
    }

    /// Number of rooms.
    pub fn num_rooms(&self) -> usize {
        self.room_region.len()
    }

    /// The region of `room`, if the room exists.
    pub fn region_of(&self, room: RoomId) -> Option<RegionId> {
        self.room_region.get(room.index()).copied()
    }

    /// The rooms of `region` in id order (empty for an unknown region).
    pub fn rooms_of(&self, region: RegionId) -> &[RoomId] {
        self.region_rooms.get(region.index()).map(Vec::as_slice).unwrap_or(&[])
    }

    /// A region's name.
    pub fn region_name(&self, region: RegionId) -> Option<&str> {
        self.region_names.get(region.index()).map(String::as_str)
    }

    /// A room's name.
    pub fn room_name(&self, room: RoomId) -> Option<&str> {
        self.room_names.get(room.index()).map(String::as_str)
    }
}

/// N-k redundancy: the region's rooms keep serving `peak_demand` with any
/// `k` of them down (the talk's N-2 is `k = 2`;
/// docs/references.md, N-2 rooms).
///
/// The check is on aggregate capacity per dimension: demand fits in the sum
/// of the surviving rooms' capacities. The worst `k` rooms to lose in a
/// dimension are the `k` largest in it, so the check is exact for the
/// aggregate condition and costs O(rooms x k) per dimension, not a loop
/// over all pairs. It does not check that the demand can be packed onto
/// individual machines (fragmentation); keep a margin for that.
///
/// `rooms` are (room, capacity) of one region. Errors name the rooms taken
/// down and the dimension that falls short (the first in [`Resource`]
/// order).
pub fn check_n_minus_k(
    region: RegionId,
    rooms: &[(RoomId, Resources)],
    peak_demand: &Resources,
    k: usize,
) -> Result<(), EdgeError> {
    if rooms.len() <= k {
        return Err(EdgeError::TooFewRooms { region, rooms: rooms.len(), k });
    }
    let demand = peak_demand.to_array();
    for d in 0..NUM_RESOURCES {
        let total: u64 = rooms.iter().map(|(_, c)| c.to_array()[d]).sum();
        // The k largest in this dimension; ties to the lower room id so the
        // error is deterministic.
        let mut order: Vec<usize> = (0..rooms.len()).collect();
        order.sort_by(|&a, &b| {
            rooms[b].1.to_array()[d].cmp(&rooms[a].1.to_array()[d]).then(rooms[a].0.cmp(&rooms[b].0))
        });
        let lost: u64 = order[..k].iter().map(|&i| rooms[i].1.to_array()[d]).sum();
        let remaining = total - lost;
        if remaining < demand[d] {
            let mut down: Vec<RoomId> = order[..k].iter().map(|&i| rooms[i].0).collect();
            down.sort();
            return Err(EdgeError::Redundancy { region, down, resource: Resource::ALL[d], remaining, demand: demand[d] });
        }
    }
    Ok(())
}

/// Validates `k` for a check: at most 8 rooms down at once.
pub fn validate_k(k: usize) -> Result<(), EdgeError> {
    if k > 8 { Err(invalid("topology", "n_minus_k", "at most 8 rooms down", k)) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cpu(x: u64) -> Resources {
        Resources::new(x, 0, 0, 0, 0)
    }

    #[test]
    fn rooms_and_regions() {
        let mut t = Topology::new();
        let a = t.add_region("cn-south").unwrap();
        let r0 = t.add_room(a, "sz-1").unwrap();
        let r1 = t.add_room(a, "gz-1").unwrap();
        assert_eq!(t.rooms_of(a), &[r0, r1]);
        assert_eq!(t.region_of(r1), Some(a));
        assert!(t.add_room(RegionId(9), "x").is_err());
    }

    #[test]
    fn n2_loses_the_two_largest() {
        // Rooms 10, 20, 30, 40 (total 100): any two down leaves at least 30.
        let region = RegionId(0);
        let rooms: Vec<_> = [10, 20, 30, 40].iter().enumerate().map(|(i, &c)| (RoomId(i as u32), cpu(c))).collect();
        assert_eq!(check_n_minus_k(region, &rooms, &cpu(30), 2), Ok(()));
        // Checked against every pair by brute force.
        let worst = (0..4)
            .flat_map(|i| (0..4).filter(move |&j| j > i).map(move |j| (i, j)))
            .map(|(i, j)| 100 - rooms[i].1.cpu_millis - rooms[j].1.cpu_millis)
            .min()
            .unwrap();
        assert_eq!(worst, 30);
        match check_n_minus_k(region, &rooms, &cpu(31), 2) {
            Err(EdgeError::Redundancy { down, resource, remaining, demand, .. }) => {
                assert_eq!(down, vec![RoomId(2), RoomId(3)]);
                assert_eq!((resource, remaining, demand), (Resource::Cpu, 30, 31));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(check_n_minus_k(region, &rooms[..2], &cpu(1), 2), Err(EdgeError::TooFewRooms { .. })));
    }
}
