//! Atomic replacement of a file or a folder, the one way every writer of
//! results, reports, sweep descriptions and decode tables replaces what it
//! writes: the content goes under a temporary name beside the destination
//! (same folder, so same filesystem) and is renamed onto it when complete.
//! A rename within one filesystem is atomic, so a reader, a rerun or a
//! resumed sweep sees the old content or the new, never half of it, even
//! after a kill.
//!
//! The temporary is `.tmp-<destination name>-<process id>`: hidden from
//! globs over results, and apart from another process writing the same
//! destination at the same time (the later rename wins; every writer here
//! writes the same bytes for the same destination). A killed writer leaves
//! its temporary behind; [`is_temp_of`] recognises such debris.
//!
//! Neither function creates missing parent folders: that is the caller's
//! choice (a results tree is created, a user's `--out` folder is not).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

const TEMP_PREFIX: &str = ".tmp-";

/// The temporary path this process writes `dest` under.
pub fn temp_path(dest: &Path) -> PathBuf {
    let name = dest.file_name().unwrap_or_default().to_string_lossy();
    dest.with_file_name(format!("{TEMP_PREFIX}{name}-{}", std::process::id()))
}

/// Whether `name`, a file name in `dest`'s folder, is a temporary of `dest`
/// written by any process (this one's or a killed one's).
pub fn is_temp_of(name: &str, dest: &Path) -> bool {
    let dest_name = dest.file_name().unwrap_or_default().to_string_lossy();
    name.strip_prefix(TEMP_PREFIX)
        .and_then(|rest| rest.strip_prefix(&*dest_name))
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
}

/// Replaces the file `dest`: `write` creates the file at the path it is
/// given, which is then renamed onto `dest`. Errors of `write` are returned
/// as they are; the rename's go through `io` with the path `dest`. On any
/// error the temporary is removed and `dest` is as it was.
pub fn write_file<E>(
    dest: &Path,
    write: impl FnOnce(&Path) -> Result<(), E>,
    io: impl Fn(&Path, io::Error) -> E,
) -> Result<(), E> {
    let tmp = temp_path(dest);
    let result = write(&tmp).and_then(|()| fs::rename(&tmp, dest).map_err(|e| io(dest, e)));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Replaces the folder `dest`: `fill` writes into the empty folder it is
/// given, which is then renamed onto `dest` (a `dest` already there is
/// removed first). A temporary of this process left from before is
/// removed first. File-system errors go through `io` with the path they
/// concern; errors of `fill` are returned as they are. On an error after
/// the temporary folder exists it is removed; `dest` is as it was unless
/// the error came from removing it.
pub fn write_dir<E>(
    dest: &Path,
    fill: impl FnOnce(&Path) -> Result<(), E>,
    io: impl Fn(&Path, io::Error) -> E,
) -> Result<(), E> {
    let tmp = temp_path(dest);
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(|e| io(&tmp, e))?;
    }
    fs::create_dir(&tmp).map_err(|e| io(&tmp, e))?;
    let result = fill(&tmp).and_then(|()| {
        if dest.exists() {
            fs::remove_dir_all(dest).map_err(|e| io(dest, e))?;
        }
        fs::rename(&tmp, dest).map_err(|e| io(dest, e))
    });
    if result.is_err() {
        let _ = fs::remove_dir_all(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn empty_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("cdnsim-atomic-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
        v.sort();
        v
    }

    fn io_text(p: &Path, e: io::Error) -> String {
        format!("{}: {}", p.display(), e.kind())
    }

    #[test]
    fn a_file_is_replaced_whole_through_a_hidden_temporary() {
        let dir = empty_dir("file");
        let dest = dir.join("sweep.json");
        fs::write(&dest, "old").unwrap();
        let mut seen = None;
        write_file(
            &dest,
            |tmp| {
                seen = Some(tmp.to_path_buf());
                // Until the rename, readers still see the old content.
                assert_eq!(fs::read_to_string(&dest).unwrap(), "old");
                fs::write(tmp, "new").map_err(|e| io_text(tmp, e))
            },
            io_text,
        )
        .unwrap();
        let tmp = seen.unwrap();
        assert_eq!(tmp, dir.join(format!(".tmp-sweep.json-{}", std::process::id())));
        assert_eq!(fs::read_to_string(&dest).unwrap(), "new");
        assert_eq!(names(&dir), ["sweep.json"], "no temporary left");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_failed_file_write_leaves_the_old_file_and_no_temporary() {
        let dir = empty_dir("file-fail");
        let dest = dir.join("report.parquet");
        fs::write(&dest, "old").unwrap();
        let r = write_file(
            &dest,
            |tmp| {
                fs::write(tmp, "half").unwrap();
                Err("disk full".to_string())
            },
            io_text,
        );
        assert_eq!(r, Err("disk full".to_string()));
        assert_eq!(fs::read_to_string(&dest).unwrap(), "old");
        assert_eq!(names(&dir), ["report.parquet"]);
        // The rename failing (the destination is a non-empty folder) is
        // reported at the destination, and cleans up too.
        let blocked = dir.join("blocked");
        fs::create_dir_all(blocked.join("inside")).unwrap();
        let r = write_file(&blocked, |tmp| fs::write(tmp, "x").map_err(|e| io_text(tmp, e)), io_text);
        assert!(r.unwrap_err().starts_with(&format!("{}: ", blocked.display())));
        assert_eq!(names(&dir), ["blocked", "report.parquet"]);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_folder_is_replaced_whole_and_a_failed_one_leaves_nothing() {
        let dir = empty_dir("dir");
        let dest = dir.join("0123456789abcdef");
        fs::create_dir(&dest).unwrap();
        fs::write(dest.join("debris"), "from a crash").unwrap();
        write_dir(&dest, |tmp| fs::write(tmp.join("manifest.json"), "{}").map_err(|e| io_text(tmp, e)), io_text).unwrap();
        assert_eq!(names(&dest), ["manifest.json"], "the old folder went, the new one came whole");
        assert_eq!(names(&dir), ["0123456789abcdef"]);

        let other = dir.join("fedcba9876543210");
        let r = write_dir(
            &other,
            |tmp| {
                fs::write(tmp.join("summary.parquet"), "x").unwrap();
                Err("killed".to_string())
            },
            io_text,
        );
        assert_eq!(r, Err("killed".to_string()));
        assert_eq!(names(&dir), ["0123456789abcdef"], "no half folder, no temporary");
        // A temporary of this process left by an earlier attempt is reused.
        fs::create_dir(temp_path(&other)).unwrap();
        fs::write(temp_path(&other).join("stale"), "").unwrap();
        write_dir(&other, |tmp| fs::write(tmp.join("manifest.json"), "{}").map_err(|e| io_text(tmp, e)), io_text).unwrap();
        assert_eq!(names(&other), ["manifest.json"]);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn debris_is_recognised_by_destination_and_process_id() {
        let dest = Path::new("/r/quickstart/0123456789abcdef");
        assert!(is_temp_of(temp_path(dest).file_name().unwrap().to_str().unwrap(), dest));
        assert!(is_temp_of(".tmp-0123456789abcdef-7", dest));
        for other in [
            "0123456789abcdef",
            ".tmp-0123456789abcdef-",
            ".tmp-0123456789abcdef-7x",
            ".tmp-0123456789abcdef0-7",
            ".tmp-0123456789abcde-7",
            ".tmp-0123456789abcdef.parquet-7",
        ] {
            assert!(!is_temp_of(other, dest), "{other}");
        }
        assert!(is_temp_of(".tmp-0123456789abcdef.parquet-7", Path::new("failures/0123456789abcdef.parquet")));
    }
}
