//! No import circles inside a crate: no `.rs` file imports a module of its
//! own crate that imports it back, directly or through others.
//!
//! A circle makes two modules one unit that can only be read, tested and
//! changed together; the house wants layers whose arrows point one way.
//!
//! The rule, as this test applies it to every crate root of the workspace
//! (`src/lib.rs` and `src/main.rs` of the root package and of each member
//! listed in the root `Cargo.toml`):
//! - Module A depends on module B when A's code names B: a `use` (private,
//!   `pub` or `pub(crate)`, globs included) or a path in code or in a macro
//!   call (`crate::b::f()`, `super::X`, `child::Y`). The arrow goes to the
//!   deepest module the path walks through: `crate::b::c::Item` is an arrow
//!   to `b::c`, `crate::Item` and `super::Item` are arrows to the crate root
//!   and to the parent.
//! - `mod b;` is not an arrow: it is where the file sits, not what it uses.
//!   So a child may use its parent's items as long as the parent does not
//!   name the child back other than by `mod`; a parent that re-exports a
//!   child (`pub use b::X`) while that child uses the parent's items is a
//!   circle, and the shared items belong in a module of their own.
//! - Items under `#[cfg(test)]` are left out: a test module's
//!   `use super::*` is the normal shape and nothing imports a test module.
//! - Comments, doc links and string literals are not code.
//!
//! The reader is a small tokenizer, not a Rust parser: it knows comments,
//! strings, char literals, attributes, `use` trees and `mod` declarations
//! (inline or in a file, `#[path]` included), which is all the rule needs.
//! A `#[cfg(test)]` on something other than an item (a field, a statement)
//! skips to the end of the enclosing list, so it can only miss arrows there.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Crates whose circles are printed but do not fail the test, each a crate
/// root relative to the workspace. Empty: every crate is free of circles
/// (the test fails while an entry has no circle left, so the list cannot
/// go stale).
const ALLOWED: &[&str] = &[];

#[test]
fn no_crate_has_an_import_circle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut failures = Vec::new();
    let roots = crate_roots(root);
    assert!(roots.len() >= 10, "found only {} crate roots: {roots:?}", roots.len());
    for rel in &roots {
        let krate = Crate::load(root, rel).unwrap_or_else(|e| panic!("{rel}: {e}"));
        let circles = krate.circles();
        let allowed = ALLOWED.contains(&rel.as_str());
        if circles.is_empty() {
            if allowed {
                failures.push(format!("{rel} is in ALLOWED but has no import circle left: remove it from the list"));
            }
            continue;
        }
        let report = format!("import circle(s) in {rel}:\n{}", circles.join("\n"));
        if allowed {
            eprintln!("allowed for now (see ALLOWED): {report}");
        } else {
            failures.push(report);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The crate roots of the root package and of every workspace member.
/// The CDN world's parts (`sim/world/src/parts/`) are named by the
/// registry (`parts.rs`) and by each other, never by delivery or the
/// results: that is what keeps a new node kind to the five files
/// docs/architecture.md lists. A file of the world outside `parts/` that
/// names a part's module or one of its types (a struct or enum it defines)
/// fails the test, with the place.
#[test]
fn only_the_registry_names_the_worlds_parts() {
    let world = Path::new(env!("CARGO_MANIFEST_DIR")).join("sim/world/src");
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let mut names = BTreeSet::new();
    let mut parts: Vec<PathBuf> = std::fs::read_dir(world.join("parts")).expect("sim/world/src/parts").map(|e| e.unwrap().path()).collect();
    parts.sort();
    for p in &parts {
        let module = p.file_stem().unwrap().to_string_lossy().to_string();
        // The trait every part sees the world through is the shared word.
        if module == "surroundings" {
            continue;
        }
        let toks = tokenize(&read(p)).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        for w in toks.windows(3) {
            if let (Tok::Ident(a), Tok::Ident(b), Tok::Ident(name)) = (&w[0].tok, &w[1].tok, &w[2].tok)
                && a == "pub"
                && (b == "struct" || b == "enum")
            {
                names.insert(name.clone());
            }
        }
        names.insert(module);
    }
    assert!(names.contains("lasthop") && names.contains("Homes"), "the parts' names were not found: {names:?}");
    let mut failures = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&world).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for f in files.iter().filter(|f| f.extension().is_some_and(|x| x == "rs")) {
        if f.file_name().is_some_and(|n| n == "parts.rs") {
            continue;
        }
        let toks = tokenize(&read(f)).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        for t in &toks {
            if let Tok::Ident(id) = &t.tok
                && names.contains(id)
            {
                failures.push(format!("{}:{}: names `{id}`, which belongs to a part (ask the registry, parts.rs)", f.display(), t.line));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn crate_roots(root: &Path) -> Vec<String> {
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).expect("root Cargo.toml");
    let start = manifest.find("members = [").expect("a [workspace] members list");
    let end = start + manifest[start..].find(']').expect("end of the members list");
    let mut dirs = vec![String::new()];
    for member in manifest[start..end].split('"').skip(1).step_by(2) {
        // A glob `dir/*`: every folder in `dir`, in name order.
        if let Some(parent) = member.strip_suffix("/*") {
            let mut found: Vec<String> = std::fs::read_dir(root.join(parent))
                .expect("a members glob names a folder")
                .filter_map(|e| e.ok())
                .filter(|e| e.path().join("Cargo.toml").is_file())
                .map(|e| format!("{parent}/{}/", e.file_name().to_string_lossy()))
                .collect();
            found.sort();
            dirs.extend(found);
        } else {
            dirs.push(format!("{member}/"));
        }
    }
    let mut roots = Vec::new();
    for dir in dirs {
        for file in ["src/lib.rs", "src/main.rs"] {
            let rel = format!("{dir}{file}");
            if root.join(&rel).is_file() {
                roots.push(rel);
            }
        }
    }
    roots
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    /// `::`
    Sep,
    Punct(char),
    /// A number: kept so that `1::` never reads as a path.
    Other,
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    line: usize,
}

/// Rust source to tokens, without comments, whitespace and lifetimes.
fn tokenize(src: &str) -> Result<Vec<Token>, String> {
    let c: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    let at = |i: usize| c.get(i).copied().unwrap_or('\0');
    let ident_start = |ch: char| ch.is_alphabetic() || ch == '_';
    let ident_char = |ch: char| ch.is_alphanumeric() || ch == '_';
    // A quoted string from the opening quote at `i`; returns its text and
    // the index after the closing quote.
    let quoted = |mut i: usize, line: &mut usize| -> Result<(String, usize), String> {
        let start_line = *line;
        let mut s = String::new();
        i += 1;
        loop {
            match c.get(i) {
                None => return Err(format!("line {start_line}: unterminated string")),
                Some('\\') => {
                    if c.get(i + 1) == Some(&'\n') {
                        *line += 1;
                    }
                    i += 2;
                }
                Some('"') => return Ok((s, i + 1)),
                Some(&ch) => {
                    if ch == '\n' {
                        *line += 1;
                    }
                    s.push(ch);
                    i += 1;
                }
            }
        }
    };
    while i < c.len() {
        let ch = c[i];
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch == '/' && at(i + 1) == '/' {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && at(i + 1) == '*' {
            let (mut depth, start_line) = (1, line);
            i += 2;
            while depth > 0 {
                match (c.get(i), c.get(i + 1)) {
                    (None, _) => return Err(format!("line {start_line}: unterminated block comment")),
                    (Some('/'), Some('*')) => (depth, i) = (depth + 1, i + 2),
                    (Some('*'), Some('/')) => (depth, i) = (depth - 1, i + 2),
                    (Some(&x), _) => {
                        line += usize::from(x == '\n');
                        i += 1;
                    }
                }
            }
        } else if ch == '"' {
            let (s, next) = quoted(i, &mut line)?;
            out.push(Token { tok: Tok::Str(s), line });
            i = next;
        } else if ch == '\'' {
            if at(i + 1) == '\\' {
                // An escaped char literal: '\n', '\'', '\u{1F600}'.
                i += 3;
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if at(i + 2) == '\'' {
                i += 3;
            } else {
                // A lifetime or a label: skip it with its name.
                i += 1;
                while i < c.len() && ident_char(c[i]) {
                    i += 1;
                }
            }
        } else if ident_start(ch) {
            let start = i;
            while i < c.len() && ident_char(c[i]) {
                i += 1;
            }
            let word: String = c[start..i].iter().collect();
            let prefix = matches!(word.as_str(), "r" | "br" | "cr" | "b" | "c");
            if prefix && (at(i) == '"' || (word.ends_with('r') && at(i) == '#' && matches!(at(i + 1), '#' | '"'))) {
                if word.ends_with('r') {
                    // A raw string: r#"..."#, any number of hashes.
                    let hashes = (i..).take_while(|&k| at(k) == '#').count();
                    let start_line = line;
                    i += hashes + 1;
                    let mut s = String::new();
                    loop {
                        if i >= c.len() {
                            return Err(format!("line {start_line}: unterminated raw string"));
                        }
                        if c[i] == '"' && (1..=hashes).all(|k| at(i + k) == '#') {
                            i += hashes + 1;
                            break;
                        }
                        line += usize::from(c[i] == '\n');
                        s.push(c[i]);
                        i += 1;
                    }
                    out.push(Token { tok: Tok::Str(s), line });
                } else {
                    let (s, next) = quoted(i, &mut line)?;
                    out.push(Token { tok: Tok::Str(s), line });
                    i = next;
                }
            } else if word == "b" && at(i) == '\'' {
                // A byte literal: b'x' or b'\n'.
                i += if at(i + 1) == '\\' { 4 } else { 3 };
                while i < c.len() && c[i - 1] != '\'' {
                    i += 1;
                }
                out.push(Token { tok: Tok::Other, line });
            } else if word == "r" && at(i) == '#' && ident_start(at(i + 1)) {
                // A raw identifier: r#type.
                let start = i + 1;
                i += 1;
                while i < c.len() && ident_char(c[i]) {
                    i += 1;
                }
                out.push(Token { tok: Tok::Ident(c[start..i].iter().collect()), line });
            } else {
                out.push(Token { tok: Tok::Ident(word), line });
            }
        } else if ch.is_ascii_digit() {
            while i < c.len() && (ident_char(c[i]) || (c[i] == '.' && at(i + 1).is_ascii_digit())) {
                i += 1;
            }
            out.push(Token { tok: Tok::Other, line });
        } else if ch == ':' && at(i + 1) == ':' {
            out.push(Token { tok: Tok::Sep, line });
            i += 2;
        } else {
            out.push(Token { tok: Tok::Punct(ch), line });
            i += 1;
        }
    }
    Ok(out)
}

/// A path named by a module's code, at a line of its file.
#[derive(Debug)]
struct Ref {
    segments: Vec<String>,
    line: usize,
}

#[derive(Debug)]
struct Module {
    /// `crate`, `crate::backbone::graph`.
    name: String,
    /// Relative to the workspace root.
    file: String,
    parent: Option<usize>,
    children: BTreeMap<String, usize>,
    refs: Vec<Ref>,
}

struct Crate {
    modules: Vec<Module>,
}

impl Crate {
    /// Reads the crate whose root file is `rel` (relative to `root`).
    fn load(root: &Path, rel: &str) -> Result<Self, String> {
        let mut krate = Crate { modules: Vec::new() };
        krate.modules.push(Module {
            name: "crate".into(),
            file: rel.into(),
            parent: None,
            children: BTreeMap::new(),
            refs: Vec::new(),
        });
        let dir = root.join(rel).parent().expect("a crate root has a folder").to_path_buf();
        krate.load_file(root, 0, &root.join(rel), &dir)?;
        Ok(krate)
    }

    /// Reads module `id` from `file`; its file children live in `dir`.
    fn load_file(&mut self, root: &Path, id: usize, file: &Path, dir: &Path) -> Result<(), String> {
        let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let tokens = tokenize(&text).map_err(|e| format!("{}: {e}", file.display()))?;
        self.scan(root, id, &tokens, file, dir)
    }

    fn add_child(&mut self, parent: usize, name: &str, file: String) -> usize {
        let id = self.modules.len();
        let full = format!("{}::{name}", self.modules[parent].name);
        self.modules.push(Module { name: full, file, parent: Some(parent), children: BTreeMap::new(), refs: Vec::new() });
        self.modules[parent].children.insert(name.to_string(), id);
        id
    }

    /// The items of module `id`: its `mod`s, `use`s and paths.
    fn scan(&mut self, root: &Path, id: usize, t: &[Token], file: &Path, dir: &Path) -> Result<(), String> {
        let rel = |p: &Path| p.strip_prefix(root).unwrap_or(p).display().to_string();
        let is = |i: usize, tok: &Tok| t.get(i).is_some_and(|x| &x.tok == tok);
        let ident = |i: usize| match t.get(i).map(|x| &x.tok) {
            Some(Tok::Ident(s)) => Some(s.as_str()),
            _ => None,
        };
        let (mut i, mut test_only, mut path_attr) = (0, false, None::<String>);
        while i < t.len() {
            // Attributes: `#[...]` and `#![...]`.
            if is(i, &Tok::Punct('#')) && (is(i + 1, &Tok::Punct('[')) || (is(i + 1, &Tok::Punct('!')) && is(i + 2, &Tok::Punct('[')))) {
                let inner = is(i + 1, &Tok::Punct('!'));
                let open = if inner { i + 2 } else { i + 1 };
                let close = matching(t, open)?;
                let body: Vec<&Tok> = t[open + 1..close].iter().map(|x| &x.tok).collect();
                let cfg_test = body == [&Tok::Ident("cfg".into()), &Tok::Punct('('), &Tok::Ident("test".into()), &Tok::Punct(')')];
                if let [Tok::Ident(p), Tok::Punct('='), Tok::Str(s)] = body.as_slice()
                    && p == "path"
                {
                    path_attr = Some(s.clone());
                }
                if cfg_test && inner {
                    // The whole file is test code.
                    return Ok(());
                }
                test_only |= cfg_test;
                i = close + 1;
                continue;
            }
            if test_only {
                i = item_end(t, i)?;
                (test_only, path_attr) = (false, None);
                continue;
            }
            match ident(i) {
                Some("mod") if ident(i + 1).is_some() && (is(i + 2, &Tok::Punct(';')) || is(i + 2, &Tok::Punct('{'))) => {
                    let name = ident(i + 1).unwrap().to_string();
                    if is(i + 2, &Tok::Punct(';')) {
                        let path = match path_attr.take() {
                            Some(p) => file.parent().unwrap().join(p),
                            None => {
                                let flat = dir.join(format!("{name}.rs"));
                                if flat.is_file() { flat } else { dir.join(&name).join("mod.rs") }
                            }
                        };
                        let child = self.add_child(id, &name, rel(&path));
                        let child_dir = if path.file_name().is_some_and(|f| f == "mod.rs") {
                            path.parent().unwrap().to_path_buf()
                        } else {
                            path.with_extension("")
                        };
                        self.load_file(root, child, &path, &child_dir)?;
                        i += 3;
                    } else {
                        let close = matching(t, i + 2)?;
                        let child = self.add_child(id, &name, rel(file));
                        self.scan(root, child, &t[i + 3..close], file, &dir.join(&name))?;
                        i = close + 1;
                    }
                }
                Some("use") => {
                    let line = t[i].line;
                    let mut paths = Vec::new();
                    let end = use_tree(t, i + 1, &mut Vec::new(), &mut paths)?;
                    self.modules[id].refs.extend(paths.into_iter().map(|segments| Ref { segments, line }));
                    i = end;
                }
                // `pub(in crate::x)` names a visibility, not a dependency.
                Some("pub") if is(i + 1, &Tok::Punct('(')) => i = matching(t, i + 1)? + 1,
                Some(first) if is(i + 1, &Tok::Sep) && !(i > 0 && (is(i - 1, &Tok::Sep) || is(i - 1, &Tok::Punct('.')))) => {
                    let mut segments = vec![first.to_string()];
                    let mut j = i + 1;
                    while is(j, &Tok::Sep)
                        && let Some(s) = ident(j + 1)
                    {
                        segments.push(s.to_string());
                        j += 2;
                    }
                    self.modules[id].refs.push(Ref { segments, line: t[i].line });
                    i = j;
                }
                _ => i += 1,
            }
        }
        Ok(())
    }

    /// The module a path of module `from` leads to: the deepest module it
    /// walks through, or `None` for other crates and local items.
    fn target(&self, from: usize, segments: &[String]) -> Option<usize> {
        let mut at = from;
        let mut rest = segments;
        match segments.first().map(String::as_str) {
            Some("crate") => {
                at = 0;
                rest = &segments[1..];
            }
            Some("self") => rest = &segments[1..],
            Some("super") => {
                while rest.first().is_some_and(|s| s == "super") {
                    at = self.modules[at].parent?;
                    rest = &rest[1..];
                }
            }
            Some(first) if self.modules[from].children.contains_key(first) => {}
            _ => return None,
        }
        while let Some(&child) = rest.first().and_then(|s| self.modules[at].children.get(s)) {
            at = child;
            rest = &rest[1..];
        }
        Some(at)
    }

    /// Arrows between modules, each with the line that makes it (the first
    /// such line of the file).
    fn arrows(&self) -> BTreeMap<usize, BTreeMap<usize, usize>> {
        let mut arrows: BTreeMap<usize, BTreeMap<usize, usize>> = BTreeMap::new();
        for (from, m) in self.modules.iter().enumerate() {
            for r in &m.refs {
                if let Some(to) = self.target(from, &r.segments)
                    && to != from
                {
                    let line = arrows.entry(from).or_default().entry(to).or_insert(r.line);
                    *line = (*line).min(r.line);
                }
            }
        }
        arrows
    }

    /// One line per circle: the shortest way round from each group of
    /// modules that reach one another (a strongly connected component).
    fn circles(&self) -> Vec<String> {
        let arrows = self.arrows();
        let next = |m: usize| arrows.get(&m).into_iter().flat_map(|a| a.keys().copied());
        let reach = |from: usize| {
            let mut seen = BTreeSet::from([from]);
            let mut stack = vec![from];
            while let Some(m) = stack.pop() {
                for n in next(m) {
                    if seen.insert(n) {
                        stack.push(n);
                    }
                }
            }
            seen
        };
        let reaches: Vec<BTreeSet<usize>> = (0..self.modules.len()).map(reach).collect();
        let mut done = BTreeSet::new();
        let mut out = Vec::new();
        for m in 0..self.modules.len() {
            if done.contains(&m) {
                continue;
            }
            let group: BTreeSet<usize> = reaches[m].iter().copied().filter(|&n| reaches[n].contains(&m)).collect();
            done.extend(group.iter().copied());
            if group.len() < 2 {
                continue;
            }
            // Shortest way from m back to m inside the group (breadth first).
            let mut prev: BTreeMap<usize, usize> = BTreeMap::new();
            let mut queue = std::collections::VecDeque::from([m]);
            'search: while let Some(a) = queue.pop_front() {
                for b in next(a).filter(|b| group.contains(b)) {
                    if b == m {
                        prev.insert(m, a);
                        break 'search;
                    }
                    if let std::collections::btree_map::Entry::Vacant(e) = prev.entry(b) {
                        e.insert(a);
                        queue.push_back(b);
                    }
                }
            }
            let mut way = vec![m];
            let mut at = prev[&m];
            while at != m {
                way.push(at);
                at = prev[&at];
            }
            way.reverse();
            way.insert(0, m);
            let steps: Vec<String> = way
                .windows(2)
                .map(|w| {
                    let (a, b) = (&self.modules[w[0]], &self.modules[w[1]]);
                    format!("  {} -> {} ({}:{})", a.name, b.name, a.file, arrows[&w[0]][&w[1]])
                })
                .collect();
            // Every arrow inside the group: all of them must go to break it.
            let inside: Vec<String> = group
                .iter()
                .flat_map(|&a| next(a).filter(|b| group.contains(b)).map(move |b| (a, b)))
                .map(|(a, b)| format!("    {} -> {} ({}:{})", self.modules[a].name, self.modules[b].name, self.modules[a].file, arrows[&a][&b]))
                .collect();
            out.push(format!("{}\n  all arrows between these modules:\n{}", steps.join("\n"), inside.join("\n")));
        }
        out
    }
}

/// Index of the bracket closing the one at `open`.
fn matching(t: &[Token], open: usize) -> Result<usize, String> {
    let mut depth = 0i32;
    for (k, x) in t.iter().enumerate().skip(open) {
        match x.tok {
            Tok::Punct('(' | '[' | '{') => depth += 1,
            Tok::Punct(')' | ']' | '}') => {
                depth -= 1;
                if depth == 0 {
                    return Ok(k);
                }
            }
            _ => {}
        }
    }
    Err(format!("line {}: unclosed bracket", t[open].line))
}

/// Index after the item starting at `i`: after its `;` or its `{ ... }`,
/// or at the bracket that closes the list the item is in.
fn item_end(t: &[Token], mut i: usize) -> Result<usize, String> {
    while i < t.len() {
        match t[i].tok {
            Tok::Punct(';') => return Ok(i + 1),
            Tok::Punct('{') => return Ok(matching(t, i)? + 1),
            Tok::Punct('(' | '[') => i = matching(t, i)? + 1,
            Tok::Punct(')' | ']' | '}') => return Ok(i),
            _ => i += 1,
        }
    }
    Ok(i)
}

/// Reads the use tree starting at `i` under `prefix` into `out` (one full
/// path per leaf; a glob ends in `*`); returns the index after it (after
/// the `;` at the top level).
fn use_tree(t: &[Token], mut i: usize, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) -> Result<usize, String> {
    let depth = prefix.len();
    if matches!(t.get(i).map(|x| &x.tok), Some(Tok::Sep)) {
        // `use ::other_crate::x`: never this crate.
        i += 1;
        prefix.push("::".into());
    }
    loop {
        match t.get(i).map(|x| &x.tok) {
            Some(Tok::Ident(s)) => {
                prefix.push(s.clone());
                i += 1;
                if matches!(t.get(i).map(|x| &x.tok), Some(Tok::Sep)) {
                    i += 1;
                    continue;
                }
                out.push(prefix.clone());
                if matches!(t.get(i).map(|x| &x.tok), Some(Tok::Ident(a)) if a == "as") {
                    i += 2;
                }
                break;
            }
            Some(Tok::Punct('*')) => {
                prefix.push("*".into());
                out.push(prefix.clone());
                i += 1;
                break;
            }
            Some(Tok::Punct('{')) => {
                i += 1;
                loop {
                    match t.get(i).map(|x| &x.tok) {
                        Some(Tok::Punct('}')) => {
                            i += 1;
                            break;
                        }
                        Some(Tok::Punct(',')) => i += 1,
                        Some(_) => {
                            let mut sub = prefix.clone();
                            i = use_tree(t, i, &mut sub, out)?;
                        }
                        None => return Err("unclosed use group".into()),
                    }
                }
                break;
            }
            other => return Err(format!("line {}: unexpected {other:?} in a use", t.get(i).map_or(0, |x| x.line))),
        }
    }
    prefix.truncate(depth);
    if depth == 0 {
        // The top level ends at `;`.
        while i < t.len() && t[i].tok != Tok::Punct(';') {
            i += 1;
        }
        i += 1;
    }
    Ok(i)
}

/// The checker on small crates written here, whose circles are known by
/// construction.
mod checker {
    use super::*;

    fn write_crate(name: &str, files: &[(&str, &str)]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("cdnsim-arch-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (path, text) in files {
            let p = dir.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        dir
    }

    fn circles(name: &str, files: &[(&str, &str)]) -> Vec<String> {
        let dir = write_crate(name, files);
        let out = Crate::load(&dir, "src/lib.rs").unwrap().circles();
        std::fs::remove_dir_all(&dir).unwrap();
        out
    }

    #[test]
    fn two_siblings_that_use_each_other_are_a_circle() {
        let found = circles(
            "siblings",
            &[
                ("src/lib.rs", "mod a;\nmod b;\n"),
                ("src/a.rs", "use crate::b::B;\npub struct A;\n"),
                ("src/b.rs", "pub struct B;\nfn f() -> crate::a::A { crate::a::A }\n"),
            ],
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("crate::a -> crate::b (src/a.rs:1)"), "{}", found[0]);
        assert!(found[0].contains("crate::b -> crate::a (src/b.rs:2)"), "{}", found[0]);
    }

    #[test]
    fn a_parent_that_re_exports_a_child_that_uses_it_is_a_circle() {
        let found = circles(
            "reexport",
            &[
                ("src/lib.rs", "pub mod net;\n"),
                ("src/net/mod.rs", "mod graph;\npub use graph::Graph;\npub struct Id;\n"),
                ("src/net/graph.rs", "use super::*;\npub struct Graph(Id);\n"),
            ],
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("crate::net -> crate::net::graph (src/net/mod.rs:2)"), "{}", found[0]);
    }

    #[test]
    fn a_longer_way_round_is_found_and_named_in_order() {
        let found = circles(
            "three",
            &[
                ("src/lib.rs", "mod a;\nmod b;\nmod c;\n"),
                ("src/a.rs", "use crate::b::x;\n"),
                ("src/b.rs", "pub fn x() { crate::c::y() }\n"),
                ("src/c.rs", "pub fn y() { super::a::z() }\n"),
            ],
        );
        assert_eq!(found.len(), 1, "{found:?}");
        let lines: Vec<&str> = found[0].lines().collect();
        assert_eq!(lines[..3], ["  crate::a -> crate::b (src/a.rs:1)", "  crate::b -> crate::c (src/b.rs:1)", "  crate::c -> crate::a (src/c.rs:1)"]);
    }

    #[test]
    fn layered_modules_tests_comments_and_strings_are_not_circles() {
        let found = circles(
            "clean",
            &[
                // The root names `model` and `ctx`; `ctx` names the root
                // (`run`) only in test code, a doc link, a comment and
                // strings, none of which is an arrow. Counted, any of them
                // would close a circle ctx -> crate -> ctx.
                ("src/lib.rs", "mod ctx;\nmod model;\npub use model::*;\npub fn run() { ctx::go() }\n"),
                (
                    "src/ctx.rs",
                    "use crate::model::Model;\n#[cfg(test)]\nuse crate::run;\n/// [`crate::run`]\n// crate::run()\n/* crate::run() /* nested */ crate::run() */\npub fn go() { let _ = \"crate::run\"; let _ = r#\"super::run\"#; let _ = '\"'; }\n#[cfg(test)]\nfn helper() -> [u8; 2] { crate::run(); [0; 2] }\n#[cfg(test)]\nmod tests { use super::*; use crate::run; }\n",
                ),
                ("src/model.rs", "mod extra;\npub struct Model;\nimpl Model { fn f<'a>(&'a self) -> &'a str { \"\" } }\n"),
                // A child using its parent, which names it only by `mod`.
                ("src/model/extra.rs", "use super::Model;\n"),
            ],
        );
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn inline_modules_path_attributes_and_nested_groups_are_followed() {
        let found = circles(
            "inline",
            &[
                ("src/lib.rs", "mod outer {\n    pub mod inner;\n}\n#[path = \"elsewhere.rs\"]\nmod moved;\n"),
                ("src/outer/inner.rs", "use crate::{moved::{self, M}};\npub struct I;\n"),
                ("src/elsewhere.rs", "pub struct M;\npub fn f() -> Vec<crate::outer::inner::I> { vec![] }\n"),
            ],
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("crate::outer::inner -> crate::moved (src/outer/inner.rs:1)"), "{}", found[0]);
        assert!(found[0].contains("crate::moved -> crate::outer::inner (src/elsewhere.rs:2)"), "{}", found[0]);
    }
}
