//! The one error every validated constructor of the crate returns: a
//! parameter outside its valid range, named as the constructor names it.
//! Home-node models and the backbone both check through `require`.

use std::fmt;

/// A parameter outside its valid range.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamError {
    /// The parameter, as the constructor names it (`"sigma"`,
    /// `"matrix[3][3]"`); the caller prefixes its own path.
    pub param: String,
    /// What a valid value looks like.
    pub expected: String,
    /// The value given.
    pub found: String,
}

impl ParamError {
    pub(crate) fn new(param: impl Into<String>, expected: impl Into<String>, found: impl fmt::Display) -> Self {
        ParamError { param: param.into(), expected: expected.into(), found: found.to_string() }
    }
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: expected {}, found {}", self.param, self.expected, self.found)
    }
}

impl std::error::Error for ParamError {}

/// `Ok` when `ok`, else the error for `param`.
pub(crate) fn require(ok: bool, param: &str, expected: &str, found: impl fmt::Display) -> Result<(), ParamError> {
    if ok { Ok(()) } else { Err(ParamError::new(param, expected, found)) }
}
