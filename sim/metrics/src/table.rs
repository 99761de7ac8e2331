//! A column-oriented table, the one shape every results file takes before
//! polars writes it.

use std::fs::File;
use std::path::Path;

use polars::prelude::*;

use crate::error::MetricsError;

/// One column's values. Optional values are `null` in Parquet.
#[derive(Clone, Debug, PartialEq)]
pub enum Col {
    U64(Vec<u64>),
    I64(Vec<i64>),
    F64(Vec<f64>),
    OptF64(Vec<Option<f64>>),
    OptU64(Vec<Option<u64>>),
    Str(Vec<String>),
    Bool(Vec<bool>),
}

impl Col {
    pub fn len(&self) -> usize {
        match self {
            Col::U64(v) => v.len(),
            Col::I64(v) => v.len(),
            Col::F64(v) => v.len(),
            Col::OptF64(v) => v.len(),
            Col::OptU64(v) => v.len(),
            Col::Str(v) => v.len(),
            Col::Bool(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn to_polars(&self, name: &str) -> Column {
        let name = PlSmallStr::from(name);
        match self {
            Col::U64(v) => Column::new(name, v),
            Col::I64(v) => Column::new(name, v),
            Col::F64(v) => Column::new(name, v),
            Col::OptF64(v) => Column::new(name, v),
            Col::OptU64(v) => Column::new(name, v),
            Col::Str(v) => Column::new(name, v),
            Col::Bool(v) => Column::new(name, v),
        }
    }
}

/// Named columns of equal length, in a fixed order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    pub columns: Vec<(String, Col)>,
}

impl Table {
    pub fn push(&mut self, name: &str, col: Col) {
        debug_assert!(self.columns.iter().all(|(n, _)| n != name), "duplicate column {name}");
        self.columns.push((name.to_string(), col));
    }

    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, |(_, c)| c.len())
    }

    pub fn column_names(&self) -> Vec<&str> {
        self.columns.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// Writes the table as Parquet (zstd, single-threaded so the bytes are
    /// the same on every machine and thread count).
    pub fn write_parquet(&self, path: &Path) -> Result<(), MetricsError> {
        let err = |message: String| MetricsError::Parquet { path: path.display().to_string(), message };
        let rows = self.rows();
        if let Some((name, c)) = self.columns.iter().find(|(_, c)| c.len() != rows) {
            return Err(err(format!("column {name} has {} rows, expected {rows}", c.len())));
        }
        let cols = self.columns.iter().map(|(n, c)| c.to_polars(n)).collect();
        let mut df = DataFrame::new(rows, cols).map_err(|e| err(e.to_string()))?;
        let file = File::create(path).map_err(|source| MetricsError::Io { path: path.display().to_string(), source })?;
        ParquetWriter::new(file)
            .with_compression(ParquetCompression::Zstd(None))
            .set_parallel(false)
            .finish(&mut df)
            .map_err(|e| err(e.to_string()))?;
        Ok(())
    }
}

/// Reads a Parquet file into a polars DataFrame (for charts and checks).
pub fn read_parquet(path: &Path) -> Result<DataFrame, MetricsError> {
    let err = |message: String| MetricsError::Read { path: path.display().to_string(), message };
    let file = File::open(path).map_err(|e| err(e.to_string()))?;
    ParquetReader::new(file).finish().map_err(|e| err(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_parquet_byte_identically() {
        let mut t = Table::default();
        t.push("id", Col::U64(vec![1, 2, 3]));
        t.push("x", Col::OptF64(vec![Some(1.5), None, Some(-2.0)]));
        t.push("name", Col::Str(vec!["a".into(), "b".into(), "c".into()]));
        let dir = std::env::temp_dir().join(format!("cdnsim-table-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (a, b) = (dir.join("a.parquet"), dir.join("b.parquet"));
        t.write_parquet(&a).unwrap();
        t.write_parquet(&b).unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        let df = read_parquet(&a).unwrap();
        assert_eq!(df.height(), 3);
        let x = df.column("x").unwrap().f64().unwrap();
        assert_eq!(x.get(0), Some(1.5));
        assert_eq!(x.get(1), None);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn ragged_table_is_an_error_not_a_panic() {
        let mut t = Table::default();
        t.push("a", Col::U64(vec![1, 2]));
        t.push("b", Col::U64(vec![1]));
        let e = t.write_parquet(Path::new("/nonexistent/x.parquet")).unwrap_err();
        assert!(e.to_string().contains("column b has 1 rows"), "{e}");
    }
}
