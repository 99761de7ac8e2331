//! Structure-aware mutation of the bundled input files.
//!
//! An input is made from one seed file by a few edits, each picked at
//! random: the text is cut into tokens (strings, numbers, words,
//! punctuation, comments, line breaks) so an edit can replace a value, move
//! a token or a line, or add a construct the parsers must bound (deep
//! nesting, an enormous `[sweep]`), rather than only flipping bits. A few
//! inputs also get raw random bytes, some of them not UTF-8.
//!
//! Everything is drawn from one named stream per input
//! (`cdnsim_engine::stream_indexed(seed, "fuzz.<target>", index)`), so an
//! input is a pure function of (target, seed, index): a finding is replayed
//! from its index alone.

use std::ops::Range;

use rand::{Rng, RngCore};

/// The lexical classes the mutator tells apart. The cut is rough on
/// purpose (it must accept any text); it only needs to find values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Newline,
    Space,
    Comment,
    Str,
    Num,
    Word,
    Punct,
    Other,
}

#[derive(Clone, Debug)]
struct Token {
    kind: Kind,
    range: Range<usize>,
}

fn tokenize(text: &str) -> Vec<Token> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        let kind = match c {
            b'\n' => {
                i += 1;
                Kind::Newline
            }
            b' ' | b'\t' | b'\r' => {
                while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\r') {
                    i += 1;
                }
                Kind::Space
            }
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                Kind::Comment
            }
            b'"' | b'\'' => {
                i += 1;
                while i < b.len() && b[i] != c && b[i] != b'\n' {
                    if b[i] == b'\\' && c == b'"' && i + 1 < b.len() && b[i + 1] != b'\n' {
                        i += 1;
                    }
                    i += 1;
                }
                if i < b.len() && b[i] == c {
                    i += 1;
                }
                Kind::Str
            }
            b'0'..=b'9' | b'+' | b'-' => {
                i += 1;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b"._+-:".contains(&b[i])) {
                    i += 1;
                }
                Kind::Num
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'-') {
                    i += 1;
                }
                Kind::Word
            }
            b'[' | b']' | b'{' | b'}' | b'=' | b',' | b'.' => {
                i += 1;
                Kind::Punct
            }
            _ => {
                i += 1;
                while i < b.len() && !text.is_char_boundary(i) {
                    i += 1;
                }
                Kind::Other
            }
        };
        out.push(Token { kind, range: start..i });
    }
    out
}

/// Numbers the parsers must bound: extremes of every integer width,
/// negative zero, floats that overflow or underflow, and the special
/// values TOML can write.
/// The first [`VALID_NUMBERS`] of them are valid TOML.
const NUMBERS: &[&str] = &[
    "0", "-0", "1", "-1", "2", "3", "7", "16", "255", "256", "65535", "65536", "56403", "56404", "99999",
    "100000", "100001", "2147483647", "-2147483648", "4294967295", "4294967296", "9223372036854775807",
    "-9223372036854775808", "0.0", "-0.0", "0.5", "1.5", "1e-9", "1e-320", "5e-324", "1e15", "1e300",
    "1e308", "1.7976931348623157e308", "-1e308", "nan", "+nan", "-nan", "inf", "+inf", "-inf", "0x7fffffffffffffff",
    "0o777", "0b1", "1_000_000", "1979-05-27T07:32:00Z", "true", "false",
    // Not TOML: the lexer's errors.
    "9223372036854775808", "18446744073709551615", "18446744073709551616", "99999999999999999999999999",
    "1e309", "-1e309", "0xffffffffffffffff", "1__0", "01", "1.", ".5", "1e", "0.1e999999999",
];
const VALID_NUMBERS: usize = 48;

/// Numbers written inside unit strings (`"<n> ms"`): the unit parser reads
/// these itself, so they get their own garbage.
const UNIT_NUMBERS: &[&str] = &[
    "0", "-0", "1", "-1", "0.5", "1e3", "1e308", "1e309", "1e-320", "18446744073709551615", "18446744073709551616",
    "9999999999999999999999", "nan", "NaN", "inf", "-inf", "+1", "1_000", "_", "1..2", "--1", "1-", ".", "",
    "1e", "e5", "0x10", "١٢", "1 2", "  7  ",
];

const UNITS: &[&str] = &[
    "ns", "us", "µs", "ms", "s", "min", "h", "bps", "kbps", "Kbps", "Mbps", "Gbps", "Tbps", "B", "KB", "KiB",
    "MB", "MiB", "GB", "GiB", "", "parsecs", "MBps", "mbps", "S", "ms ms", "m s", "%", "µ", "\\u00b5s", "s\\n",
    "ms\\u0000", "Mbps/s",
];

/// Strings that are not numbers: empty, long, odd characters, names a
/// parser might look up.
const STRINGS: &[&str] = &[
    "", " ", "x", "tree", "pool", "mesh", "model", "exact", "structural", "common", "independent", "gilbert-elliott",
    "exponential", "lognormal", "uniform", "source", "centre", "edge", "china", "../china", "topologies/china",
    "quickstart", "\\u0000", "\\t", "\\\"", "\\\\", "\\uD800", "\\U0010FFFF", "ü", "北京", "\u{202e}", "\u{feff}",
];

/// Keys a sweep can name: real fields of the bundled files, and near misses.
const SWEEP_KEYS: &[&str] = &[
    "viewers.arrivals_per_s", "viewers.playout_delay", "viewers.access_loss", "stream.bitrate", "stream.chunk",
    "links[0].loss", "links[3].loss", "links[11].loss", "links[99999999999999999999].loss", "links[-1].loss",
    "transport.max_retransmits", "transport.retransmit_timeout", "limits.max_pending_events", "routing.mode",
    "run.seed", "run.name", "run.duration", "network.route_inflation", "nodes[0].egress", "regions[0].lat",
    "last_hop.share", "home.on_session.mean", "viewers.watch_time.mean", "viewers", "links", "links[0]",
    "a.b.c.d.e.f.g.h", "viewers..x", "viewers.arrivals_per_s.x", "[0]", "links[]", "links[0][0].loss",
];

fn pick<'a, R: RngCore>(rng: &mut R, xs: &[&'a str]) -> &'a str {
    xs[rng.random_range(0..xs.len())]
}

/// A size with a heavy tail: mostly small, sometimes enormous.
fn heavy<R: RngCore>(rng: &mut R, max_pow10: u32) -> usize {
    let p = rng.random_range(0..=max_pow10);
    let hi = 10usize.pow(p);
    rng.random_range(hi / 10..=hi).max(1)
}

/// Mostly up to 10^`small` (cheap inputs, many of them), 1 time in 20 up
/// to 10^`big` (the sizes that find unbounded work).
fn sized<R: RngCore>(rng: &mut R, small: u32, big: u32) -> usize {
    let p = if rng.random_bool(0.05) { big } else { small };
    heavy(rng, p)
}

/// A number token: one of [`NUMBERS`] or a random one of random size.
fn number<R: RngCore>(rng: &mut R) -> String {
    match rng.random_range(0..5) {
        0 => (rng.next_u64() as i64 >> rng.random_range(0..64)).to_string(),
        1 => format!("{:e}", f64::from_bits(rng.next_u64())).replace("NaN", "nan"),
        2 => pick(rng, NUMBERS).to_string(),
        _ => pick(rng, &NUMBERS[..VALID_NUMBERS]).to_string(),
    }
}

fn unit_string<R: RngCore>(rng: &mut R) -> String {
    let sep = if rng.random_bool(0.8) { " " } else { "" };
    format!("\"{}{sep}{}\"", pick(rng, UNIT_NUMBERS), pick(rng, UNITS))
}

/// Any value TOML can write, with the awkward ones overrepresented.
fn value<R: RngCore>(rng: &mut R, depth: u32) -> String {
    match rng.random_range(0..10) {
        0..=2 => number(rng),
        3..=5 => unit_string(rng),
        6 => format!("\"{}\"", pick(rng, STRINGS)),
        7 if depth < 3 => {
            let n = heavy(rng, 1);
            let items: Vec<String> = (0..n).map(|_| value(rng, depth + 1)).collect();
            format!("[{}]", items.join(", "))
        }
        8 if depth < 3 => {
            let n = heavy(rng, 1).min(4);
            let items: Vec<String> =
                (0..n).map(|i| format!("{} = {}", ["p", "model", "fec", "mean", "from"][i % 5], value(rng, depth + 1))).collect();
            format!("{{ {} }}", items.join(", "))
        }
        _ => ["true", "false", "'lit'", "\"\"\"multi\nline\"\"\"", "2026-01-01"][rng.random_range(0..5)].to_string(),
    }
}

/// Deeply nested TOML: arrays, inline tables, dotted keys or table headers
/// `depth` levels down, some of them left unclosed.
fn nesting<R: RngCore>(rng: &mut R) -> String {
    let depth = [2, 10, 100, 1_000, 10_000, 100_000][rng.random_range(0..6)];
    let close = rng.random_bool(0.8);
    let closing = |s: &str| if close { s.repeat(depth) } else { String::new() };
    match rng.random_range(0..6) {
        0 => format!("nest = {}{}\n", "[".repeat(depth), closing("]")),
        1 => format!("nest = {}1{}\n", "{ a = ".repeat(depth), closing(" }")),
        2 => format!("[{}]\n", vec!["a"; depth].join(".")),
        3 => format!("{} = 1\n", vec!["a"; depth].join(".")),
        4 => format!("[[{}]]\n", vec!["a"; depth].join(".")),
        _ => format!("nest = {}{}\n", "[{ a = ".repeat(depth), closing("}]")),
    }
}

/// A `[sweep]` table: keys from [`SWEEP_KEYS`], lists of any length, ranges
/// with huge or degenerate bounds, zip groups, replications and seeds.
pub fn sweep_block<R: RngCore>(rng: &mut R) -> String {
    let mut s = String::from("\n[sweep]\n");
    if rng.random_bool(0.3) {
        s += &format!("replications = {}\n", if rng.random_bool(0.5) { number(rng) } else { heavy(rng, 6).to_string() });
    }
    if rng.random_bool(0.2) {
        s += &format!("seeds = {}\n", value(rng, 0));
    }
    let keys = heavy(rng, 1);
    for _ in 0..keys {
        s += &format!("\"{}\" = {}\n", pick(rng, SWEEP_KEYS), sweep_values(rng));
    }
    for _ in 0..rng.random_range(0..3) {
        s += "[[sweep.zip]]\n";
        for _ in 0..rng.random_range(0..4) {
            s += &format!("\"{}\" = {}\n", pick(rng, SWEEP_KEYS), sweep_values(rng));
        }
    }
    s
}

fn sweep_values<R: RngCore>(rng: &mut R) -> String {
    match rng.random_range(0..4) {
        0 => {
            let (from, to, step) = match rng.random_bool(0.5) {
                true => (number(rng), number(rng), number(rng)),
                false => (unit_string(rng), unit_string(rng), unit_string(rng)),
            };
            format!("{{ from = {from}, to = {to}, step = {step} }}")
        }
        1 => {
            // Distinct numbers, so a long list is not refused for a repeat.
            let n = sized(rng, 2, 5);
            let unit = if rng.random_bool(0.5) { Some(pick(rng, UNITS)) } else { None };
            let items: Vec<String> = (0..n)
                .map(|i| match unit {
                    Some(u) => format!("\"{i} {u}\""),
                    None => format!("{i}"),
                })
                .collect();
            format!("[{}]", items.join(","))
        }
        2 => format!("{{ from = 0, to = {}, step = 1 }}", sized(rng, 2, 7)),
        _ => {
            let n = heavy(rng, 1);
            let items: Vec<String> = (0..n).map(|_| value(rng, 1)).collect();
            format!("[{}]", items.join(", "))
        }
    }
}

/// The byte offsets where lines start (the first is 0).
fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect()
}

/// A random whole-line range of `text`.
fn line_range<R: RngCore>(rng: &mut R, text: &str) -> Range<usize> {
    let starts = line_starts(text);
    let a = rng.random_range(0..starts.len());
    let n = heavy(rng, 1);
    let end = starts.get(a + n).copied().unwrap_or(text.len());
    starts[a]..end
}

/// A seed file, cut into tokens once.
struct SeedFile {
    text: String,
    tokens: Vec<Token>,
}

/// A random `[[array]]` table (header to the next header): repeating one
/// keeps the file valid TOML and grows a list (nodes, links, regions).
fn section_range<R: RngCore>(rng: &mut R, text: &str) -> Option<Range<usize>> {
    let starts = line_starts(text);
    let headers: Vec<usize> = starts.iter().copied().filter(|&i| text[i..].starts_with('[')).collect();
    let arrays: Vec<usize> = headers.iter().copied().filter(|&i| text[i..].starts_with("[[")).collect();
    let &start = arrays.get(rng.random_range(0..arrays.len().max(1)))?;
    let end = headers.iter().copied().find(|&h| h > start).unwrap_or(text.len());
    Some(start..end)
}

/// How inputs are built for one target: its seed files and knobs.
pub struct Mutator {
    corpus: Vec<SeedFile>,
    /// Whether `[sweep]` blocks are a common edit (the sweep target).
    sweeps: bool,
}

impl Mutator {
    /// A mutator over `corpus` (name, text); `sweeps` makes `[sweep]`
    /// tables a common edit.
    pub fn new(corpus: &[(&str, String)], sweeps: bool) -> Mutator {
        assert!(!corpus.is_empty(), "at least one seed file");
        let corpus = corpus.iter().map(|(_, t)| SeedFile { tokens: tokenize(t), text: t.clone() }).collect();
        Mutator { corpus, sweeps }
    }

    fn seed_file<R: RngCore>(&self, rng: &mut R) -> &SeedFile {
        &self.corpus[rng.random_range(0..self.corpus.len())]
    }

    /// Input `index` of the campaign seeded `seed` for stream `stream`.
    pub fn input(&self, stream: &str, seed: u64, index: u64) -> Vec<u8> {
        let mut rng = cdnsim_engine::stream_indexed(seed, stream, index);
        match rng.random_range(0..100) {
            // Pure noise: bytes of any value, or ASCII that looks like TOML.
            0..=1 => {
                let n = heavy(&mut rng, 4);
                (0..n).map(|_| rng.next_u32() as u8).collect()
            }
            2..=3 => {
                let n = heavy(&mut rng, 3);
                let mut s = String::new();
                for _ in 0..n {
                    let f = self.seed_file(&mut rng);
                    if let Some(t) = f.tokens.get(rng.random_range(0..f.tokens.len().max(1))) {
                        s.push_str(&f.text[t.range.clone()]);
                    }
                }
                s.into_bytes()
            }
            _ => {
                let mut text = self.seed_file(&mut rng).text.clone();
                // Most inputs keep the file valid TOML, so the resolver
                // sees them; the rest may break the syntax anywhere.
                let semantic = rng.random_bool(0.6);
                let edits = 1 + (rng.next_u32() | 1 << 7).trailing_zeros();
                for _ in 0..edits {
                    text = self.edit(&mut rng, text, semantic);
                }
                let mut bytes = text.into_bytes();
                if !semantic && rng.random_bool(0.1) {
                    raw_bytes(&mut rng, &mut bytes);
                }
                bytes
            }
        }
    }

    fn edit<R: RngCore>(&self, rng: &mut R, text: String, semantic: bool) -> String {
        let toks = tokenize(&text);
        if toks.is_empty() {
            return value(rng, 0);
        }
        let tok = |rng: &mut R, want: &[Kind]| -> Token {
            let candidates: Vec<&Token> = toks.iter().filter(|t| want.contains(&t.kind)).collect();
            match candidates.is_empty() {
                true => toks[rng.random_range(0..toks.len())].clone(),
                false => candidates[rng.random_range(0..candidates.len())].clone(),
            }
        };
        let replace = |r: Range<usize>, with: &str| format!("{}{with}{}", &text[..r.start], &text[r.end..]);
        let op = match (self.sweeps && rng.random_bool(0.25), semantic) {
            (true, _) => 99,
            // Edits that keep the syntax (mostly): values, lines, nesting.
            (false, true) => [0, 1, 2, 0, 1, 12, 12, 9, if self.sweeps { 11 } else { 0 }][rng.random_range(0..9)],
            (false, false) => rng.random_range(0..12),
        };
        match op {
            // A value replaced by an extreme one of its kind; in a
            // string, only its number or its unit sometimes.
            0..=2 => {
                let t = tok(rng, &[Kind::Num, Kind::Str]);
                let old = &text[t.range.clone()];
                let with = match (t.kind, rng.random_range(0..4)) {
                    (Kind::Num, 0) if !semantic => value(rng, 0),
                    (Kind::Num, _) if semantic => pick(rng, &NUMBERS[..VALID_NUMBERS]).to_string(),
                    (Kind::Num, _) => number(rng),
                    (_, 0) => value(rng, 0),
                    (_, 1) => format!("\"{}\"", pick(rng, STRINGS)),
                    (_, 2) => match old.trim_matches('"').split_once(' ') {
                        Some((_, unit)) => format!("\"{} {unit}\"", pick(rng, UNIT_NUMBERS)),
                        None => unit_string(rng),
                    },
                    _ => unit_string(rng),
                };
                replace(t.range, &with)
            }
            // Token splicing: a token of any seed file in place of one here,
            // or inserted before it.
            3 | 4 => {
                let t = tok(rng, &[]);
                let other = self.seed_file(rng);
                let piece = match other.tokens.is_empty() {
                    true => "",
                    false => &other.text[other.tokens[rng.random_range(0..other.tokens.len())].range.clone()],
                };
                match rng.random_bool(0.5) {
                    true => replace(t.range, piece),
                    false => replace(t.range.start..t.range.start, piece),
                }
            }
            // A run of tokens deleted.
            5 => {
                let a = rng.random_range(0..toks.len());
                let b = (a + heavy(rng, 1)).min(toks.len());
                replace(toks[a].range.start..toks[b - 1].range.end, "")
            }
            // Lines: duplicated (up to thousands of times), deleted, or
            // copied in from another seed file.
            6 => {
                let r = line_range(rng, &text);
                let times = sized(rng, 1, 4);
                let block = text[r.clone()].repeat(times.min((1usize << 20) / (r.len() + 1)).max(1));
                replace(r.end..r.end, &block)
            }
            7 => replace(line_range(rng, &text), ""),
            // An [[array]] table repeated (up to thousands of times).
            12 => match section_range(rng, &text) {
                Some(r) => {
                    let times = sized(rng, 1, 4).min((1usize << 20) / (r.len() + 1)).max(1);
                    let mut block = text[r.clone()].to_string();
                    if !block.ends_with('\n') {
                        block.push('\n');
                    }
                    replace(r.end..r.end, &block.repeat(times))
                }
                None => text.clone(),
            },
            8 => {
                let other = &self.seed_file(rng).text;
                let piece = other[line_range(rng, other)].to_string();
                let at = line_range(rng, &text).start;
                replace(at..at, &piece)
            }
            // Deep nesting at the start of a line.
            9 => {
                let at = line_range(rng, &text).start;
                replace(at..at, &nesting(rng))
            }
            // Cut short anywhere (inside a string, a table header, ...).
            10 => {
                let mut at = rng.random_range(0..=text.len());
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                text[..at].to_string()
            }
            // A sweep table: appended, or in the middle of the file.
            11 | 99 => {
                let block = sweep_block(rng);
                let at = if rng.random_bool(0.7) { text.len() } else { line_range(rng, &text).start };
                replace(at..at, &block)
            }
            _ => unreachable!("op {op} is not drawn"),
        }
    }
}

/// Random bytes over or into the text: bit flips, control characters,
/// byte sequences that are not UTF-8.
fn raw_bytes<R: RngCore>(rng: &mut R, bytes: &mut Vec<u8>) {
    const ODD: &[&[u8]] = &[b"\0", b"\r", b"\x7f", b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xef\xbb\xbf", b"\xf4\x90\x80\x80"];
    for _ in 0..heavy(rng, 1) {
        let at = rng.random_range(0..=bytes.len());
        match rng.random_range(0..3) {
            0 if at < bytes.len() => bytes[at] ^= 1 << rng.random_range(0..8),
            1 => {
                let odd = ODD[rng.random_range(0..ODD.len())];
                bytes.splice(at..at, odd.iter().copied());
            }
            _ => bytes.insert(at, rng.next_u32() as u8),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_cover_the_text_and_find_values() {
        let t = "a = \"50 ms\" # c\n[[x]]\nb = -1.5e3\n";
        let toks = tokenize(t);
        let joined: String = toks.iter().map(|k| &t[k.range.clone()]).collect();
        assert_eq!(joined, t);
        let kinds: Vec<(Kind, &str)> = toks.iter().filter(|k| k.kind != Kind::Space).map(|k| (k.kind, &t[k.range.clone()])).collect();
        assert!(kinds.contains(&(Kind::Str, "\"50 ms\"")) && kinds.contains(&(Kind::Num, "-1.5e3")));
        assert!(kinds.contains(&(Kind::Comment, "# c")));
    }

    #[test]
    fn the_valid_numbers_are_the_ones_toml_reads() {
        for (i, n) in NUMBERS.iter().enumerate() {
            let parsed = format!("x = {n}\n").parse::<toml::Table>();
            assert_eq!(parsed.is_ok(), i < VALID_NUMBERS, "{n}: {parsed:?}");
        }
    }

    #[test]
    fn an_input_is_a_function_of_seed_and_index() {
        let corpus = [("q", include_str!("../../scenarios/quickstart.toml").to_string())];
        let m = Mutator::new(&corpus, true);
        let a: Vec<Vec<u8>> = (0..50).map(|i| m.input("fuzz.test", 7, i)).collect();
        let b: Vec<Vec<u8>> = (0..50).map(|i| m.input("fuzz.test", 7, i)).collect();
        assert_eq!(a, b);
        let distinct: std::collections::BTreeSet<&Vec<u8>> = a.iter().collect();
        assert!(distinct.len() >= 45, "inputs differ: {}", distinct.len());
        assert_ne!(a[0], m.input("fuzz.test", 8, 0), "another seed, another input");
    }
}
