//! Newtype ids. Every id is an index into the table of the type that hands
//! it out (a topology, a cluster, a pool of pods), so ids are dense and
//! start at 0; a bare integer never crosses the crate boundary.

use std::fmt;

macro_rules! id {
    ($(#[$doc:meta])* $name:ident($inner:ty), $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub $inner);

        impl $name {
            /// The id as a table index.
            #[inline]
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }
    };
}

id!(
    /// A region (a set of edge rooms, e.g. one country or province).
    RegionId(u32), "region"
);
id!(
    /// An edge room: one IDC site of a region.
    RoomId(u32), "room"
);
id!(
    /// A machine (a node of the edge container platform).
    MachineId(u32), "machine"
);
id!(
    /// A resource pool: a set of machines plus the customers it admits.
    PoolId(u32), "pool"
);
id!(
    /// A customer or service (a business cluster in the talk).
    CustomerId(u32), "customer"
);
id!(
    /// A media-server pod. Chosen by the caller.
    PodId(u32), "pod"
);
id!(
    /// An RTC session (one publisher or subscriber on a media server).
    /// Chosen by the caller.
    SessionId(u64), "session"
);
id!(
    /// One allocation of resources on a machine (a pod, or a session placed
    /// directly on a machine). Handed out by the cluster; an id is reused
    /// after its allocation is released.
    AllocId(u32), "alloc"
);
id!(
    /// A live stream: one publisher's push, pulled by its subscribers.
    /// Chosen by the caller.
    StreamId(u64), "stream"
);
