//! The ids of a backbone's tables and the two kinds of path end. A leaf
//! module: everything else in `backbone` builds on it.

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u32);

        impl $name {
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
    };
}

id_type!(
    /// An ISP, by its position in [`super::BackboneInput::isps`].
    IspId
);
id_type!(
    /// A province or region, by its position in [`super::BackboneInput::regions`].
    RegionId
);
id_type!(
    /// A PoP, by its position in [`super::BackboneInput::pops`].
    PopId
);
id_type!(
    /// An IDC, by its position in [`super::BackboneInput::idcs`].
    IdcId
);
id_type!(
    /// An interconnect site, by its position in
    /// [`super::BackboneInput::interconnects`].
    InterconnectId
);
id_type!(
    /// A full-duplex link of the built backbone: backbone links first (in
    /// input order), then interconnect pairs, then IDC access links.
    LinkId
);
id_type!(
    /// A shared-risk group, in order of first mention.
    GroupId
);

/// Either end of a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Endpoint {
    Pop(PopId),
    Idc(IdcId),
}
