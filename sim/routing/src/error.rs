//! Errors for bad inputs: a graph, a policy or a score function that cannot
//! be used, and a join that has no acceptable route.

use std::fmt;

use crate::limits::{MAX_LABELS, MAX_STREAMS};

/// A configuration value that cannot be used: which field, what a valid
/// value looks like and what was given. The field path is relative to the
/// value checked (`links[3].b`, `min_quality`); callers prefix their own
/// place (a scenario's table, a file position).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamError {
    /// Path of the field (`links[3].b`).
    pub field: String,
    /// What a valid value looks like.
    pub expected: String,
    /// The value given.
    pub found: String,
}

impl ParamError {
    pub(crate) fn new(field: impl Into<String>, expected: impl Into<String>, found: impl fmt::Display) -> Self {
        ParamError { field: field.into(), expected: expected.into(), found: found.to_string() }
    }
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: expected {}, found {}", self.field, self.expected, self.found)
    }
}

impl std::error::Error for ParamError {}

/// `Ok` when `ok`, else the error for `field`.
pub(crate) fn require(ok: bool, field: &str, expected: &str, found: impl fmt::Display) -> Result<(), ParamError> {
    if ok { Ok(()) } else { Err(ParamError::new(field, expected, found)) }
}

/// Why a join, push or publish produced no route. The router's state is
/// unchanged when it returns one of these.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoRoute {
    /// A node id at or beyond the graph's node count.
    UnknownNode {
        /// The id given.
        node: u32,
    },
    /// The stream is known with another ingest node.
    SourceMismatch {
        /// The stream.
        stream: u32,
        /// Its ingest node.
        known: u32,
        /// The ingest node given.
        given: u32,
    },
    /// Tree: source and target hang under different roots.
    DifferentTrees {
        /// The stream's ingest node.
        source: u32,
        /// The node that asked.
        target: u32,
    },
    /// No path under the mode's rules, within the hop bound, at or above the
    /// class's minimum quality, from a carrier that can serve.
    NoPath {
        /// The node that asked.
        target: u32,
    },
    /// The stream table is full ([`MAX_STREAMS`]).
    TooManyStreams,
    /// The search reached [`MAX_LABELS`] labels before proving an
    /// answer optimal.
    SearchLimit,
}

impl fmt::Display for NoRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NoRoute::UnknownNode { node } => write!(f, "node {node} is not in the graph"),
            NoRoute::SourceMismatch { stream, known, given } => {
                write!(f, "stream {stream} enters at node {known}, not at node {given}")
            }
            NoRoute::DifferentTrees { source, target } => {
                write!(f, "nodes {source} and {target} hang under different tree roots")
            }
            NoRoute::NoPath { target } => {
                write!(f, "no acceptable path to node {target} within the hop bound and the quality minimum")
            }
            NoRoute::TooManyStreams => write!(f, "the stream table is full ({MAX_STREAMS} streams)"),
            NoRoute::SearchLimit => write!(f, "the route search reached its limit of {MAX_LABELS} labels"),
        }
    }
}

impl std::error::Error for NoRoute {}
