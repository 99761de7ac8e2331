//! Errors that point at the place in the scenario file.

use std::fmt;

/// A scenario that cannot be run, and where it went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScenarioError {
    /// The file could not be read at all (missing, unreadable).
    Read { file: String, message: String },
    /// The file was read; something in it is wrong at `line:col` (1-based,
    /// columns in characters).
    Invalid { file: String, line: usize, col: usize, field: String, message: String },
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScenarioError::Read { file, message } => write!(f, "{file}: cannot read the scenario: {message}"),
            ScenarioError::Invalid { file, line, col, field, message } => {
                write!(f, "{file}:{line}:{col}: {field}: {message}")
            }
        }
    }
}

impl std::error::Error for ScenarioError {}

/// Reads a UTF-8 text file: a missing file is a `Read` error, a byte that
/// is not UTF-8 an `Invalid` one at its line and column.
pub fn read_text(path: &std::path::Path) -> Result<(String, String), ScenarioError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| ScenarioError::Read { file: file.clone(), message: e.to_string() })?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok((file, text)),
        Err(e) => {
            let (bytes, at) = (e.as_bytes(), e.utf8_error().valid_up_to());
            let (line, col) = utf8_error_position(bytes, at);
            let message = format!("expected UTF-8 text, found byte 0x{:02x}", bytes[at]);
            Err(ScenarioError::Invalid { file, line, col, field: "(file)".into(), message })
        }
    }
}

/// Step one of reading any of our TOML files: text -> raw serde structs,
/// with a syntax or type error placed at its line and column and named by
/// its field path.
pub fn deserialize_located<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T, ScenarioError> {
    let located = |span: Option<std::ops::Range<usize>>, field: String, message: String| {
        let (line, col) = line_col(text, span.map_or(0, |s| s.start));
        ScenarioError::Invalid { file: file.to_string(), line, col, field, message }
    };
    let de = toml::Deserializer::parse(text).map_err(|e| located(e.span(), "(syntax)".into(), e.message().to_string()))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        // `Spanned` values show up in the path as a private serde field;
        // the user wrote the value itself.
        let field = match e.path().to_string().replace(".$__serde_spanned_private_value", "") {
            p if p == "." => "(top level)".to_string(),
            p => p,
        };
        let inner = e.into_inner();
        located(inner.span(), field, inner.message().to_string())
    })
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// 1-based line and column of the first byte that is not valid UTF-8.
pub fn utf8_error_position(bytes: &[u8], valid_up_to: usize) -> (usize, usize) {
    let valid = std::str::from_utf8(&bytes[..valid_up_to]).expect("valid prefix");
    line_col(valid, valid.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let t = "a = 1\nµ = \"x\"\n";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 6), (2, 1));
        // 'µ' is two bytes but one column.
        assert_eq!(line_col(t, 6 + 2 + 1), (2, 3));
    }
}
