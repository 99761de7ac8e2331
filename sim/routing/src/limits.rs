//! The router's table bounds: checked by the router and the search, named
//! by [`NoRoute`](crate::NoRoute)'s messages. A leaf module, so the error
//! type can name them without importing the router, which imports it.

/// Most streams the router tracks at once (carriers or viewer classes).
pub const MAX_STREAMS: usize = 1 << 22;
/// Most labels one search may create before giving up with
/// [`NoRoute::SearchLimit`](crate::NoRoute::SearchLimit).
pub const MAX_LABELS: usize = 1 << 20;
