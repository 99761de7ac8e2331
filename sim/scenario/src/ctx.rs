//! Where an error of a TOML file is reported: the file's label and text,
//! to turn a span into `line:col`, and the checks every resolver shares.
//! Its own module so that the resolvers of the scenario, the backbone, the
//! home nodes, topology files and sweeps all build on it without
//! importing one another.

use std::collections::BTreeMap;
use std::ops::Range;

use crate::spanned::Spanned;

use crate::error::{ScenarioError, line_col};

/// Where errors are reported: the file's label and its text, to turn a
/// span into `line:col`. Shared by every resolver of a TOML file.
pub(crate) struct Ctx<'a> {
    pub(crate) file: &'a str,
    pub(crate) text: &'a str,
}

impl Ctx<'_> {
    pub(crate) fn err(&self, span: Range<usize>, field: impl Into<String>, message: impl Into<String>) -> ScenarioError {
        let (line, col) = line_col(self.text, span.start);
        ScenarioError::Invalid { file: self.file.to_string(), line, col, field: field.into(), message: message.into() }
    }

    pub(crate) fn lookup(
        &self,
        names: &BTreeMap<&str, usize>,
        what: &str,
        value: &Spanned<String>,
        field: String,
    ) -> Result<usize, ScenarioError> {
        names.get(value.get_ref().as_str()).copied().ok_or_else(|| {
            let known: Vec<_> = names.keys().copied().collect();
            self.err(
                value.span(),
                field,
                format!("expected the name of {what} ({}), found {:?}", known.join(", "), value.get_ref()),
            )
        })
    }

    /// `v` if it is one of `names` (a list of `crate::raw`, which the
    /// schema enumerates), else an error listing them.
    pub(crate) fn one_of(&self, v: &Spanned<String>, field: impl Into<String>, names: &'static [&'static str]) -> Result<&'static str, ScenarioError> {
        one_of(names, v.get_ref()).map_err(|m| self.err(v.span(), field, m))
    }

    pub(crate) fn fraction(&self, v: &Spanned<f64>, field: String) -> Result<f64, ScenarioError> {
        let x = *v.get_ref();
        if !(0.0..1.0).contains(&x) {
            return Err(self.err(v.span(), field, format!("expected a probability in [0, 1), found {x}")));
        }
        Ok(x)
    }

    pub(crate) fn positive(&self, v: &Spanned<f64>, field: String) -> Result<f64, ScenarioError> {
        let x = *v.get_ref();
        if !(x.is_finite() && x > 0.0) {
            return Err(self.err(v.span(), field, format!("expected a positive number, found {x}")));
        }
        Ok(x)
    }

    pub(crate) fn nonzero<T: Copy>(&self, v: &Spanned<T>, field: &str, get: impl Fn(T) -> u64) -> Result<u64, ScenarioError> {
        let x = get(*v.get_ref());
        if x == 0 {
            return Err(self.err(v.span(), field, "expected a value above zero, found zero"));
        }
        Ok(x)
    }
}

/// `found` as its entry of `names`, or the message that lists them.
pub(crate) fn one_of(names: &'static [&'static str], found: &str) -> Result<&'static str, String> {
    names.iter().copied().find(|n| *n == found).ok_or_else(|| {
        let list: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
        format!("expected one of {}, found {found:?}", list.join(", "))
    })
}
