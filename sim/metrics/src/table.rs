//! A column-oriented table, the one shape every results file takes before
//! polars writes it.

use std::fs::File;
use std::ops::Range;
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
        writer(file).finish(&mut df).map_err(|e| err(e.to_string()))?;
        Ok(())
    }

    /// Writes a table of `rows` rows built one row group at a time by
    /// `group`, which is given each group's rows and returns them as a
    /// table. The file is the one [`Table::write_parquet`] writes for the
    /// whole table (the groups are the ones polars would cut it into,
    /// [`row_groups`]), but only one group is ever expanded in memory: a
    /// million viewers' rows are ~1 KB each as strings, columns and polars
    /// arrays (benches/README.md, "Memory of the flagship").
    pub fn write_parquet_by_groups(
        path: &Path,
        rows: usize,
        mut group: impl FnMut(Range<usize>) -> Table,
    ) -> Result<(), MetricsError> {
        let err = |message: String| MetricsError::Parquet { path: path.display().to_string(), message };
        let file = File::create(path).map_err(|source| MetricsError::Io { path: path.display().to_string(), source })?;
        let mut batched = None;
        for range in row_groups(rows) {
            let len = range.len();
            let t = group(range);
            if let Some((name, c)) = t.columns.iter().find(|(_, c)| c.len() != len) {
                return Err(err(format!("column {name} has {} rows, expected {len}", c.len())));
            }
            let cols = t.columns.iter().map(|(n, c)| c.to_polars(n)).collect();
            let df = DataFrame::new(len, cols).map_err(|e| err(e.to_string()))?;
            if batched.is_none() {
                batched = Some(writer(&file).batched(df.schema()).map_err(|e| err(e.to_string()))?);
            }
            batched.as_mut().expect("set above").write_batch(&df).map_err(|e| err(e.to_string()))?;
        }
        batched.expect("row_groups gives at least one group").finish().map_err(|e| err(e.to_string()))?;
        Ok(())
    }
}

/// The writer settings of every results file: zstd, single-threaded so the
/// bytes are the same on every machine and thread count.
fn writer<W: std::io::Write>(out: W) -> ParquetWriter<W> {
    ParquetWriter::new(out).with_compression(ParquetCompression::Zstd(None)).set_parallel(false)
}

/// Polars' default row group size.
const ROW_GROUP_ROWS: usize = 512 * 512;

/// The row groups polars' writer cuts a one-chunk frame of `rows` rows
/// into (polars-core 0.55, `chunk_df_for_writing` and `split_df_as_ref`):
/// one group below [`ROW_GROUP_ROWS`]; otherwise n = rows / that many
/// groups of rows / n rows, the last taking the remainder. Always at least
/// one group, so an empty table still gets its schema written.
pub fn row_groups(rows: usize) -> Vec<Range<usize>> {
    let n = rows / ROW_GROUP_ROWS;
    if n <= 1 {
        return vec![0..rows];
    }
    let size = rows / n;
    (0..n).map(|i| i * size..if i + 1 == n { rows } else { (i + 1) * size }).collect()
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

    /// A table written a group at a time is byte for byte the table
    /// written whole, at sizes around each group boundary: what lets the
    /// viewers' table be written in groups without moving any digest.
    #[test]
    fn written_by_groups_is_written_whole() {
        let dir = std::env::temp_dir().join(format!("cdnsim-groups-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let make = |r: Range<usize>| {
            let mut t = Table::default();
            t.push("id", Col::U64(r.clone().map(|i| i as u64).collect()));
            t.push("x", Col::OptF64(r.clone().map(|i| (i % 3 != 0).then(|| i as f64 / 7.0)).collect()));
            t.push("name", Col::Str(r.map(|i| format!("edge-{}", i % 517)).collect()));
            t
        };
        for rows in [0, 5, ROW_GROUP_ROWS - 1, 2 * ROW_GROUP_ROWS - 1, 2 * ROW_GROUP_ROWS + 3, 3 * ROW_GROUP_ROWS + 7] {
            let (a, b) = (dir.join("whole.parquet"), dir.join("groups.parquet"));
            make(0..rows).write_parquet(&a).unwrap();
            let mut seen = 0;
            Table::write_parquet_by_groups(&b, rows, |r| {
                assert_eq!(r.start, seen, "groups in order, no gap");
                seen = r.end;
                make(r)
            })
            .unwrap();
            assert_eq!(seen, rows);
            assert!(std::fs::read(&a).unwrap() == std::fs::read(&b).unwrap(), "{rows} rows: the files differ");
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn row_groups_are_polars_splits() {
        assert_eq!(row_groups(0), vec![0..0]);
        assert_eq!(row_groups(ROW_GROUP_ROWS), vec![0..ROW_GROUP_ROWS]);
        // 1,120,118 viewers: four groups of 280,029, the last 280,031.
        assert_eq!(row_groups(1_120_118), vec![0..280_029, 280_029..560_058, 560_058..840_087, 840_087..1_120_118]);
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
