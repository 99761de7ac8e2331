//! Guard: model code computes transcendental functions only through
//! cdnsim-maths.
//!
//! Scans the sources of every crate whose computations reach results and
//! fails on a call of a platform maths function (`x.exp()`, `f64::ln`,
//! `.powf(`, `.sin()`, ...; `sqrt` is correctly rounded by IEEE 754 and
//! allowed) or a rand_distr sampler (they compute through num-traits'
//! `Float`, i.e. the platform's `ln` and `exp`) outside `#[cfg(test)]`
//! items. Test folders (`tests/`) are not scanned, nor are charts
//! (sim/chart) and benchmarks, which do not reach results.
//!
//! Known sites that are still to be converted are listed in [`PENDING`]
//! with their exact count: the test fails when a listed file has more
//! (a new site) and when it has fewer (convert, then delete the entry),
//! so the list cannot go stale.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// Source folders scanned, relative to the workspace root.
const SCANNED: &[&str] = &[
    "sim/engine/src",
    "sim/net/src",
    "sim/routing/src",
    "sim/codec/src",
    "sim/scenario/src",
    "sim/edge/src",
    "sim/lasthop/src",
    "sim/world/src",
    "sim/metrics/src",
    "sim/maths/src",
    "src",
];

/// Sites not converted yet: (file, number of findings). Remove an entry
/// when its file is converted.
const PENDING: &[(&str, usize)] = &[];

/// Findings that are allowed for good: (file, count, why).
const EXEMPT: &[(&str, usize, &str)] =
    &[("src/sweep_charts.rs", 1, "log10 for chart axis ticks; does not reach results")];

/// `f64` methods that call the platform's maths library (or, for powi, an
/// operation of unspecified precision).
const METHODS: &[&str] = &[
    "exp", "exp2", "exp_m1", "ln", "ln_1p", "log", "log2", "log10", "powf", "powi", "sin", "cos", "tan", "sin_cos",
    "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "cbrt", "hypot", "gamma",
    "ln_gamma",
];

/// What may be taken from rand_distr: no transcendental function inside.
const RAND_DISTR_OK: &[&str] =
    &["weighted", "WeightedIndex", "WeightError", "Distribution", "Uniform", "uniform", "Bernoulli"];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

/// `src` with comments, string and char literals replaced by spaces (same
/// length and newlines, so offsets and line numbers carry over). Returns
/// (comments removed, comments and literals removed).
fn mask(src: &str) -> (Vec<u8>, Vec<u8>) {
    let b = src.as_bytes();
    let mut no_comments = b.to_vec();
    let mut masked = b.to_vec();
    let blank = |v: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut v[from..to] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            let end = b[i..].iter().position(|&c| c == b'\n').map_or(b.len(), |p| i + p);
            blank(&mut no_comments, i, end);
            blank(&mut masked, i, end);
            i = end;
        } else if b[i..].starts_with(b"/*") {
            let (mut depth, mut j) = (1, i + 2);
            while j < b.len() && depth > 0 {
                if b[j..].starts_with(b"/*") {
                    depth += 1;
                    j += 2;
                } else if b[j..].starts_with(b"*/") {
                    depth -= 1;
                    j += 2;
                } else {
                    j += 1;
                }
            }
            blank(&mut no_comments, i, j);
            blank(&mut masked, i, j);
            i = j;
        } else if b[i] == b'r' && (b[i + 1..].starts_with(b"\"") || b[i + 1..].starts_with(b"#")) && !ident_byte(b, i) {
            // Raw string r"..." or r#"..."#.
            let hashes = b[i + 1..].iter().take_while(|&&c| c == b'#').count();
            if b.get(i + 1 + hashes) != Some(&b'"') {
                i += 1;
                continue;
            }
            let close: Vec<u8> = std::iter::once(b'"').chain(std::iter::repeat_n(b'#', hashes)).collect();
            let start = i + 2 + hashes;
            let end =
                b[start..].windows(close.len()).position(|w| w == close.as_slice()).map_or(b.len(), |p| start + p);
            blank(&mut masked, start, end);
            i = end + close.len();
        } else if b[i] == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            blank(&mut masked, i + 1, j.min(b.len()));
            i = j + 1;
        } else if b[i] == b'\'' {
            // A char literal ('x', '\n', '\u{..}'), not a lifetime ('a).
            let end = if b.get(i + 1) == Some(&b'\\') {
                b[i + 2..].iter().position(|&c| c == b'\'').map(|p| i + 2 + p)
            } else if b.get(i + 2) == Some(&b'\'') {
                Some(i + 2)
            } else {
                // Multi-byte UTF-8 char literal or a lifetime.
                let ch_len = src[i + 1..].chars().next().map_or(1, char::len_utf8);
                (b.get(i + 1 + ch_len) == Some(&b'\'')).then_some(i + 1 + ch_len)
            };
            match end {
                Some(e) => {
                    blank(&mut masked, i + 1, e);
                    i = e + 1;
                }
                None => i += 1,
            }
        } else {
            i += 1;
        }
    }
    (no_comments, masked)
}

fn ident_byte(b: &[u8], i: usize) -> bool {
    i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// The end (exclusive) of the item starting at `i`: its first `;` at depth
/// 0, or the close of its first brace block.
fn item_end(b: &[u8], i: usize) -> usize {
    let mut depth = 0usize;
    for (j, &c) in b.iter().enumerate().skip(i) {
        match c {
            b'{' => depth += 1,
            b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return j + 1;
                }
            }
            b';' if depth == 0 => return j + 1,
            _ => {}
        }
    }
    b.len()
}

/// Blanks every `#[cfg(test)]` item in `masked`; returns the files of
/// out-of-line test modules (`#[cfg(test)] mod x;`, with `#[path]`).
fn strip_test_items(file: &Path, no_comments: &[u8], masked: &mut [u8]) -> Vec<PathBuf> {
    let mut test_files = Vec::new();
    let needle = b"#[cfg(test)]";
    let mut from = 0;
    while let Some(p) = masked[from..].windows(needle.len()).position(|w| w == needle) {
        let start = from + p;
        let mut i = skip_ws(masked, start + needle.len());
        let mut path_attr = None;
        // Further attributes on the same item.
        while masked.get(i) == Some(&b'#') {
            let end = masked[i..].iter().position(|&c| c == b']').map_or(masked.len(), |q| i + q + 1);
            let text = String::from_utf8_lossy(&no_comments[i..end]).to_string();
            if let Some(rest) = text.strip_prefix("#[path") {
                path_attr = rest.split('"').nth(1).map(str::to_string);
            }
            i = skip_ws(masked, end);
        }
        let end = item_end(masked, i);
        let item = String::from_utf8_lossy(&masked[i..end]).to_string();
        let words: Vec<&str> =
            item.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty()).collect();
        if item.trim_end().ends_with(';') {
            let m = words.iter().position(|w| *w == "mod");
            if let Some(name) = m.and_then(|m| words.get(m + 1)) {
                let stem = file.file_stem().unwrap().to_str().unwrap();
                let dir = if matches!(stem, "lib" | "main" | "mod") {
                    file.parent().unwrap().to_path_buf()
                } else {
                    file.parent().unwrap().join(stem)
                };
                match &path_attr {
                    Some(p) => test_files.push(file.parent().unwrap().join(p)),
                    None => {
                        test_files.push(dir.join(format!("{name}.rs")));
                        test_files.push(dir.join(name).join("mod.rs"));
                    }
                }
            }
        }
        for c in &mut masked[start..end] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
        from = end;
    }
    test_files
}

/// Findings in one file's masked, test-stripped text: (line, what).
fn findings(masked: &[u8]) -> Vec<(usize, String)> {
    let text = String::from_utf8_lossy(masked);
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let b = line.as_bytes();
        for m in METHODS {
            for pat in [format!(".{m}("), format!("f64::{m}"), format!("f32::{m}")] {
                let mut k = 0;
                while let Some(p) = line[k..].find(&pat) {
                    let at = k + p;
                    let after = at + pat.len();
                    // `f64::ln` must not be a prefix of `f64::ln_1p` etc.
                    let whole =
                        pat.ends_with('(') || !b.get(after).is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_');
                    if whole {
                        out.push((n + 1, pat.clone()));
                    }
                    k = after;
                }
            }
        }
    }
    // rand_distr: every name taken from it.
    let b = text.as_bytes();
    let mut k = 0;
    while let Some(p) = text[k..].find("rand_distr") {
        let at = k + p;
        k = at + "rand_distr".len();
        if ident_byte(b, at) || b.get(k).is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_') {
            continue;
        }
        let line = text[..at].matches('\n').count() + 1;
        if !text[k..].starts_with("::") {
            out.push((line, "rand_distr (not a path)".into()));
            continue;
        }
        // The path or use-tree after `rand_distr::`, to the end of the
        // statement or expression.
        let rest = &text[k + 2..];
        let end = if rest.starts_with('{') {
            rest.find('}').map_or(rest.len(), |e| e + 1)
        } else {
            rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':' || c == '*')).unwrap_or(rest.len())
        };
        for name in
            rest[..end].split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '*')).filter(|w| !w.is_empty())
        {
            if !RAND_DISTR_OK.contains(&name) && name != "self" {
                out.push((line, format!("rand_distr::{name}")));
            }
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> =
        fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Findings per file (relative path), test items and test modules left out.
fn scan(root: &Path) -> BTreeMap<String, Vec<(usize, String)>> {
    let mut files = Vec::new();
    for d in SCANNED {
        rust_files(&root.join(d), &mut files);
    }
    let mut test_files = Vec::new();
    let mut per_file = BTreeMap::new();
    for f in &files {
        let src = fs::read_to_string(f).unwrap();
        let (no_comments, mut masked) = mask(&src);
        test_files.extend(strip_test_items(f, &no_comments, &mut masked));
        per_file.insert(f.clone(), findings(&masked));
    }
    let test_files: Vec<PathBuf> = test_files.iter().filter_map(|p| p.canonicalize().ok()).collect();
    per_file
        .into_iter()
        .filter(|(f, v)| !v.is_empty() && !test_files.contains(&f.canonicalize().unwrap()))
        .map(|(f, v)| (f.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/"), v))
        .collect()
}

#[test]
fn model_code_uses_no_platform_transcendentals() {
    let root = workspace_root();
    let found = scan(&root);
    let mut problems = Vec::new();
    for (file, hits) in &found {
        let allowed = PENDING
            .iter()
            .find(|p| p.0 == file)
            .map(|p| p.1)
            .or_else(|| EXEMPT.iter().find(|e| e.0 == file).map(|e| e.1));
        if allowed != Some(hits.len()) {
            let list: Vec<String> = hits.iter().map(|(l, w)| format!("    {file}:{l}: {w}")).collect();
            problems.push(format!(
                "{file}: {} finding(s), allowed {}; use cdnsim_maths instead:\n{}",
                hits.len(),
                allowed.unwrap_or(0),
                list.join("\n")
            ));
        }
    }
    for (file, n) in PENDING.iter().map(|p| (p.0, p.1)).chain(EXEMPT.iter().map(|e| (e.0, e.1))) {
        if !found.contains_key(file) {
            problems.push(format!("{file}: allow-listed for {n} finding(s) but has none: delete its entry"));
        }
    }
    assert!(problems.is_empty(), "platform maths in model code:\n{}", problems.join("\n"));
}

/// The guard has power: each kind of site it must catch is caught, and
/// what it must ignore is ignored.
#[test]
fn guard_catches_what_it_must_and_nothing_else() {
    let caught = [
        "fn f(x: f64) -> f64 { x.exp() }",
        "fn f(x: f64) -> f64 { (x / 2.0).ln() }",
        "fn f(x: f64) -> f64 { x.powf(0.5) }",
        "fn f(x: f64) -> f64 { x.powi(2) }",
        "fn f(x: f64) -> (f64, f64) { x.sin_cos() }",
        "fn f(v: &[f64]) -> Vec<f64> { v.iter().copied().map(f64::ln).collect() }",
        "use rand_distr::{Distribution, Exp1};",
        "use rand_distr::weighted::WeightedIndex; fn f() { let _ = rand_distr::StandardNormal; }",
        "use rand_distr::*;",
        "fn f() {} #[cfg(test)] mod tests {} fn g(x: f64) -> f64 { x.atan() }",
    ];
    for src in caught {
        let (_, masked) = mask(src);
        let mut masked = masked;
        strip_test_items(Path::new("x.rs"), &mask(src).0, &mut masked);
        assert!(!findings(&masked).is_empty(), "not caught: {src}");
    }
    let ignored = [
        "fn f(x: f64) -> f64 { x.sqrt() + cdnsim_maths::exp(x) + exp(x) }",
        "// x.exp() in a comment\n/* and x.ln() /* nested */ here */ fn f() {}",
        "fn f() -> &'static str { \"x.exp() in a string\" }",
        "fn f() -> &'static str { r#\"x.powf(2.0)\"# }",
        "fn f() -> char { '\"' } fn g(x: f64) -> f64 { x + 1.0 } // '\"'.exp()",
        "use rand_distr::Distribution;\nuse rand_distr::weighted::WeightedIndex;",
        "#[cfg(test)]\nmod tests {\n fn f(x: f64) -> f64 { x.exp().ln() }\n}",
        "#[cfg(test)]\nfn helper(x: f64) -> f64 { x.sin() }",
        "fn f(d: u64) -> u64 { d.exponent() + d.lnx() + self.f64::length() }",
    ];
    for src in ignored {
        let (nc, mut masked) = mask(src);
        strip_test_items(Path::new("x.rs"), &nc, &mut masked);
        assert!(findings(&masked).is_empty(), "wrongly caught: {src}: {:?}", findings(&masked));
    }
    // Out-of-line test modules are recognised, with #[path] too.
    let src = "#[cfg(test)]\n#[path = \"router_tests.rs\"]\nmod tests;\n#[cfg(test)]\nmod more;";
    let (nc, mut masked) = mask(src);
    let files = strip_test_items(Path::new("/a/router.rs"), &nc, &mut masked);
    assert!(
        files.contains(&PathBuf::from("/a/router_tests.rs")) && files.contains(&PathBuf::from("/a/router/more.rs")),
        "{files:?}"
    );
}

/// And on the real tree: the scan sees the sites it must (the pending
/// world ones, with their lines) and not the test-only file router_tests.rs,
/// which calls powi.
#[test]
fn guard_scans_the_real_sources() {
    let found = scan(&workspace_root());
    assert!(!found.contains_key("sim/routing/src/router_tests.rs"), "a #[cfg(test)] #[path] module was scanned");
    assert!(!found.contains_key("sim/net/src/geo.rs"), "geo.rs tests were scanned");
    if let Some(world) = found.get("sim/world/src/world.rs") {
        assert!(world.iter().any(|(_, w)| w == "rand_distr::Exp"), "{world:?}");
    }
}
