//! The tie-break classes of the CDN world's events.
//!
//! Same-instant events run in class order (lower first), then in the order
//! they were scheduled. The classes are chosen so that everything that can
//! make a block available at an instant happens before a player looks for
//! that block at the same instant:
//!
//! | class | events | why here |
//! |---|---|---|
//! | 0 `NET` | faults, data and control arrivals, control messages' retry timers, chunks reaching a shared backbone link (same-instant chunks queue there in scheduling order), resend timers, probing rounds, route replies and route requests asked again; the parts' events (home-node churn and capacity changes, last-hop feeds, symbol batches, heartbeats and client reviews) | state of the network first |
//! | 1 `CAPTURE` | the broadcaster finishes capturing a chunk | after arrivals, so a capture never overtakes delivery bookkeeping |
//! | 2 `SESSION` | viewer joins and leaves | a viewer leaving at t sees nothing that arrives later than t |
//! | 3 `PLAYOUT` | playout deadlines | last: a block that completes exactly at its deadline plays on time |
//!
//! A module of its own, imported by nothing of the world, so that the
//! parts (`parts/`) can name a class without importing the event enum
//! that names them.

use cdnsim_engine::Class;

pub const NET: Class = Class(0);
pub const CAPTURE: Class = Class(1);
pub const SESSION: Class = Class(2);
pub const PLAYOUT: Class = Class(3);
