//! JSON Schemas of scenario and topology files, for editors (taplo / Even
//! Better TOML read a `#:schema` directive at the top of a file) and for
//! tools that check a file without cdnsim.
//!
//! Generated from the raw structs (`crate::raw`, the topology's raw
//! structs) by schemars, so the fields, which of them are required, and
//! `additionalProperties: false` (their `deny_unknown_fields`) are the
//! parser's own; descriptions are their doc comments; values with units
//! are strings whose pattern `crate::units` builds from its unit tables;
//! strings with a closed set of values list the resolver's names. Two
//! parts are added by hand, each written beside its parser: `[sweep]`
//! (`crate::sweep`), which is expanded before the raw structs see the
//! file, and nothing else.
//!
//! Draft-07, with `definitions`: the draft TOML language servers and
//! editors' JSON Schema support read most widely (taplo resolves
//! `#/definitions/...` references; 2020-12's `$defs` and its validation
//! rules came later to them), and one that Python's `jsonschema` checks
//! too. The generated text is committed as `scenarios/scenario.schema.json`
//! and `scenarios/topologies/topology.schema.json`; a test keeps both
//! current.

use schemars::generate::SchemaSettings;
use schemars::JsonSchema;
use serde_json::{Map, Value};

/// The scenario format's schema.
pub fn scenario_schema() -> Value {
    let mut schema = generate::<crate::raw::RawScenario>("cdnsim scenario");
    let (sweep, values) = crate::sweep::schema();
    schema["properties"]["sweep"] = sweep;
    schema["definitions"]["SweptValues"] = values;
    schema
}

/// The backbone topology format's schema (`scenarios/topologies/*.toml`).
pub fn topology_schema() -> Value {
    generate::<crate::topology::RawTopology>("cdnsim backbone topology")
}

/// A schema as its committed file holds it: pretty JSON and a newline.
pub fn to_text(schema: &Value) -> String {
    let mut text = serde_json::to_string_pretty(schema).expect("a schema serialises");
    text.push('\n');
    text
}

fn generate<T: JsonSchema>(title: &str) -> Value {
    let generator = SchemaSettings::draft07().into_generator();
    let mut schema = generator.into_root_schema_for::<T>().to_value();
    tidy(&mut schema);
    let root = schema.as_object_mut().expect("a root schema is an object");
    root.insert("title".into(), title.into());
    rename_definitions(root);
    schema
}

/// TOML has no null: drop the `null` schemars allows for every `Option`
/// (a `"null"` in `type`, a `{ "type": "null" }` branch), so editors do
/// not offer it. Descriptions lose the doc comments' line breaks (a
/// paragraph is one line, as Markdown reads it anyway).
fn tidy(v: &mut Value) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(d)) = o.get_mut("description") {
                *d = d.split("\n\n").map(|p| p.split('\n').map(str::trim).collect::<Vec<_>>().join(" ")).collect::<Vec<_>>().join("\n\n");
            }
            if let Some(Value::Array(types)) = o.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    o.insert("type".into(), only);
                }
            }
            for key in ["anyOf", "oneOf"] {
                let Some(Value::Array(branches)) = o.get_mut(key) else { continue };
                branches.retain(|b| b.get("type").and_then(Value::as_str) != Some("null"));
                if branches.len() == 1 {
                    let only = branches.remove(0);
                    o.remove(key);
                    // A lone `$ref` keeps its siblings (the description)
                    // only inside allOf in draft-07.
                    let merges = only.as_object().is_some_and(|b| !b.contains_key("$ref") && b.keys().all(|k| !o.contains_key(k)));
                    match (merges, only) {
                        (true, Value::Object(b)) => o.extend(b),
                        (_, only) => {
                            o.insert("allOf".into(), Value::Array(vec![only]));
                        }
                    }
                }
            }
            o.values_mut().for_each(tidy);
        }
        Value::Array(a) => a.iter_mut().for_each(tidy),
        _ => {}
    }
}

/// `RawNode` -> `Node`: the names an editor shows are the file's, not the
/// parser's.
fn rename_definitions(root: &mut Map<String, Value>) {
    let Some(Value::Object(defs)) = root.remove("definitions") else { return };
    let renamed: Map<String, Value> = defs.into_iter().map(|(k, v)| (k.strip_prefix("Raw").map_or(k.clone(), str::to_string), v)).collect();
    root.insert("definitions".into(), Value::Object(renamed));
    fn refs(v: &mut Value) {
        match v {
            Value::Object(o) => {
                if let Some(Value::String(r)) = o.get_mut("$ref") {
                    *r = r.replace("#/definitions/Raw", "#/definitions/");
                }
                o.values_mut().for_each(refs);
            }
            Value::Array(a) => a.iter_mut().for_each(refs),
            _ => {}
        }
    }
    root.values_mut().for_each(refs);
}

#[cfg(test)]
mod tests {
    //! The schema against the parser it describes: what one accepts, the
    //! other must. The raw structs make the fields agree by construction;
    //! these tests cover what is written or named twice: the unit
    //! patterns, the lists of names, `[sweep]`, and schemars' reading of
    //! the serde attributes.

    use std::collections::BTreeSet;

    use super::*;

    const SCENARIOS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios");

    fn bundled(name: &str) -> String {
        let text = std::fs::read_to_string(format!("{SCENARIOS}/{name}")).unwrap();
        // One point of a file's sweep: the file as written.
        text.split("\n[sweep]").next().unwrap().to_string()
    }

    /// The node at `pointer` with `$ref`s and single-branch `allOf`s
    /// followed.
    fn resolve<'a>(root: &'a Value, mut v: &'a Value) -> &'a Value {
        loop {
            if let Some(r) = v.get("$ref").and_then(Value::as_str) {
                v = root.pointer(r.trim_start_matches('#')).unwrap_or_else(|| panic!("dangling {r}"));
            } else if let Some([only]) = v.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
                v = only;
            } else {
                return v;
            }
        }
    }

    /// Every table the schema describes with named properties, as the TOML
    /// headers that open it: (headers, property names, additionalProperties).
    fn tables(root: &Value) -> Vec<(Vec<String>, BTreeSet<String>, Option<bool>)> {
        fn walk(root: &Value, node: &Value, path: &str, headers: Vec<String>, out: &mut Vec<(Vec<String>, BTreeSet<String>, Option<bool>)>) {
            let node = resolve(root, node);
            let Some(props) = node.get("properties").and_then(Value::as_object) else { return };
            // `[sweep]` is expanded from the text before the raw structs
            // see it: tested with its parser (below, and in `sweep`).
            let names = props.keys().filter(|k| !(path.is_empty() && *k == "sweep")).cloned().collect();
            out.push((headers.clone(), names, node.get("additionalProperties").and_then(Value::as_bool)));
            for (name, p) in props {
                if path.is_empty() && name == "sweep" {
                    continue;
                }
                let child = if path.is_empty() { name.clone() } else { format!("{path}.{name}") };
                let p = resolve(root, p);
                if p.get("properties").is_some() {
                    let mut h = headers.clone();
                    h.push(format!("[{child}]"));
                    walk(root, p, &child, h, out);
                } else if let Some(items) = p.get("items") {
                    let mut h = headers.clone();
                    h.push(format!("[[{child}]]"));
                    walk(root, items, &child, h, out);
                }
            }
        }
        let mut out = Vec::new();
        walk(root, root, "", vec![], &mut out);
        out
    }

    /// The field names of serde's "unknown field `x`, expected one of `a`,
    /// `b`" (or "expected `a` or `b`", "expected `a`").
    fn expected_fields(message: &str, unknown: &str) -> BTreeSet<String> {
        let head = format!("unknown field `{unknown}`, expected");
        let rest = message.split_once(&head).unwrap_or_else(|| panic!("not an unknown-field error: {message}")).1;
        rest.split('`').skip(1).step_by(2).map(str::to_string).collect()
    }

    /// For every table the schema names properties of, the parser's own
    /// list of accepted fields (serde's message for an unknown one) is the
    /// same set, and the schema closes the table as the parser does.
    fn fields_agree(schema: &Value, parse: impl Fn(&str) -> String) -> usize {
        let mut checked = 0;
        for (headers, props, additional) in tables(schema) {
            let mut doc = headers.join("\n");
            doc.push_str("\nzz_not_a_field = 1\n");
            let e = parse(&doc);
            assert_eq!(expected_fields(&e, "zz_not_a_field"), props, "the fields of {headers:?}: parser (left) and schema (right)\n{doc}");
            assert_eq!(additional, Some(false), "{headers:?}: the parser refuses unknown fields, the schema must too");
            checked += 1;
        }
        checked
    }

    #[test]
    fn every_table_has_the_parsers_fields_and_no_others() {
        let n = fields_agree(&scenario_schema(), |doc| crate::parse("t.toml", doc).unwrap_err().to_string());
        assert!(n >= 25, "walked only {n} tables");
        let n = fields_agree(&topology_schema(), |doc| crate::topology::parse_topology("t.toml", doc).unwrap_err().to_string());
        assert!(n >= 12, "walked only {n} tables");
    }

    /// Each kind's pattern (from the schema as written out) matches exactly
    /// the strings its parser accepts, over every string of up to four
    /// tokens from an alphabet of the characters that matter: digits,
    /// signs, `.`, `_`, whitespace that Rust trims and whitespace it does
    /// not (U+FEFF, which ECMA-262's `\s` has), an exponent, and the units
    /// of all three kinds. Numbers stay small, so the parsers' "too large"
    /// bound (which no pattern says) never decides.
    #[test]
    fn unit_patterns_match_exactly_what_the_parsers_accept() {
        let schema = scenario_schema();
        let tokens: Vec<&str> = vec![
            "0", "7", ".", "+", "-", "_", " ", "\t", "\u{a0}", "\u{3000}", "\u{85}", "\u{feff}", "e", "µ", "ms", "s", "min",
            "Mbps", "bps", "KiB", "B", "GB", "m",
        ];
        for (name, parse) in [
            ("Duration", (|s: &str| crate::units::DurationNs::parse(s).is_ok()) as fn(&str) -> bool),
            ("Rate", |s: &str| crate::units::RateBps::parse(s).is_ok()),
            ("Size", |s: &str| crate::units::SizeBytes::parse(s).is_ok()),
        ] {
            let pattern = schema["definitions"][name]["pattern"].as_str().unwrap();
            let re = regex::Regex::new(pattern).unwrap();
            let (mut accepted, mut strings) = (0, 0);
            let mut check = |s: &str| {
                strings += 1;
                let ok = parse(s);
                accepted += ok as u32;
                assert_eq!(re.is_match(s), ok, "{name} {s:?}: pattern (left) and parser (right) disagree");
            };
            let n = tokens.len();
            for len in 1..=4u32 {
                for mut i in 0..n.pow(len) {
                    let mut s = String::new();
                    for _ in 0..len {
                        s.push_str(tokens[i % n]);
                        i /= n;
                    }
                    check(&s);
                }
            }
            assert!(accepted > 1000 && strings > 200_000, "{name}: {accepted} of {strings} accepted");
        }
    }

    /// How to put a value into a string field with a closed set of names,
    /// in a file that otherwise resolves: the schema's pointer to the
    /// list, the field the parser names, and the file with the value in.
    struct Place {
        pointer: &'static str,
        field: &'static str,
        text: fn(&str) -> String,
    }

    fn one(file: &str, from: &str, to: &str) -> String {
        let text = bundled(file);
        assert!(text.contains(from), "{file}: {from}");
        text.replacen(from, to, 1)
    }

    fn places() -> Vec<Place> {
        vec![
            Place { pointer: "/definitions/Node/properties/role", field: "nodes[0].role", text: |v| one("quickstart.toml", "role = \"source\"", &format!("role = {v:?}")) },
            Place { pointer: "/definitions/Routing/properties/mode", field: "routing.mode", text: |v| one("tree_vs_pool_vs_mesh.toml", "mode = \"mesh\"", &format!("mode = {v:?}")) },
            Place {
                pointer: "/definitions/Redundancy/anyOf/0",
                field: "routing.hot_redundancy",
                text: |v| one("tree_vs_pool_vs_mesh.toml", "hot_viewers = 100", &format!("hot_viewers = 100\nhot_redundancy = {v:?}")),
            },
            Place {
                pointer: "/definitions/Fault/properties/kind",
                field: "faults[0].kind",
                text: |v| {
                    one("quickstart.toml", "loss = 0.002", "loss = 0.002\ngroups = [\"west\"]").replacen(
                        "[broadcaster]",
                        &format!("[[faults]]\ngroup = \"west\"\nkind = {v:?}\nstart = \"1 s\"\nend = \"2 s\"\n[broadcaster]"),
                        1,
                    )
                },
            },
            Place {
                pointer: "/definitions/LossModel/properties/model",
                field: "links[11].loss",
                text: |v| one("quickstart.toml", "loss = 0.002", &format!("loss = {{ model = {v:?}, p_good_to_bad = 0.01, p_bad_to_good = 0.2 }}")),
            },
            Place {
                pointer: "/definitions/WatchTime/properties/distribution",
                field: "viewers.watch_time.distribution",
                text: |v| one("quickstart.toml", "watch_time = { distribution = \"lognormal\"", &format!("watch_time = {{ distribution = {v:?}")),
            },
            Place {
                pointer: "/definitions/Upload/properties/distribution",
                field: "home.upload",
                text: |v| one("home_churn.toml", "upload = { distribution = \"lognormal\"", &format!("upload = {{ distribution = {v:?}")),
            },
            Place {
                pointer: "/definitions/Session/properties/distribution",
                field: "home.on_session",
                text: |v| one("home_churn.toml", "on_session = { distribution = \"weibull\"", &format!("on_session = {{ distribution = {v:?}")),
            },
            Place { pointer: "/definitions/LastHop/properties/fidelity", field: "last_hop.fidelity", text: |v| one("hot_stream_fountain.toml", "fidelity = \"model\"", &format!("fidelity = {v:?}")) },
            Place { pointer: "/definitions/Edge/properties/sharing", field: "edge.sharing", text: |v| one("edge_global_500.toml", "sharing = \"shared\"", &format!("sharing = {v:?}")) },
            Place { pointer: "/definitions/Edge/properties/policy", field: "edge.policy", text: |v| one("edge_global_500.toml", "policy = \"binpack\"", &format!("policy = {v:?}")) },
            Place { pointer: "/definitions/Edge/properties/scale_in", field: "edge.scale_in", text: |v| one("edge_global_500.toml", "scale_in = \"tombstone\"", &format!("scale_in = {v:?}")) },
            Place {
                pointer: "/definitions/DurationTable/properties/distribution",
                field: "edge.startup_pulled",
                text: |v| one("edge_global_500.toml", "startup_pulled = { distribution = \"lognormal\"", &format!("startup_pulled = {{ distribution = {v:?}")),
            },
            Place {
                pointer: "/definitions/Upgrade/properties/how",
                field: "edge.upgrades[0].how",
                text: |v| bundled("edge_global_500.toml") + &format!("\n[[edge.upgrades]]\nservice = \"live\"\nat = \"1 h\"\nhow = {v:?}\n"),
            },
            Place {
                pointer: "/definitions/ControlFault/properties/kind",
                field: "edge.control_faults[0].kind",
                text: |v| bundled("edge_global_500.toml") + &format!("\n[[edge.control_faults]]\nkind = {v:?}\nstart = \"1 h\"\nend = \"2 h\"\n"),
            },
            Place {
                pointer: "/definitions/TransportFault/properties/kind",
                field: "edge.transport_faults[1].kind",
                text: |v| transport_text() + &format!("\n[[edge.transport_faults]]\ngroup = \"submarine.us-japan\"\nkind = {v:?}\nextra_loss = 0.1\nstart = \"1 h\"\nend = \"2 h\"\n"),
            },
            Place {
                pointer: "/definitions/TransportLink/properties/class",
                field: "edge.transport.links[0].class",
                text: |v| transport_text() + &format!("\n[[edge.transport.links]]\nfrom = \"santiago\"\nto = \"sydney\"\nclass = {v:?}\n"),
            },
            Place {
                pointer: "/properties/sweep/properties/seeds",
                field: "sweep.seeds",
                text: |v| bundled("quickstart.toml") + &format!("\n[sweep]\nseeds = {v:?}\n\"viewers.arrivals_per_s\" = [1.0, 2.0]\n"),
            },
        ]
    }

    /// The bundled cable fault (one point of its sweep).
    fn transport_text() -> String {
        bundled("edge_transport_fault.toml")
    }

    fn enums(v: &Value, pointer: String, out: &mut Vec<(String, Vec<String>)>) {
        match v {
            Value::Object(o) => {
                if let Some(Value::Array(names)) = o.get("enum") {
                    out.push((pointer.clone(), names.iter().map(|n| n.as_str().unwrap().to_string()).collect()));
                }
                for (k, c) in o {
                    enums(c, format!("{pointer}/{k}"), out);
                }
            }
            Value::Array(a) => a.iter().enumerate().for_each(|(i, c)| enums(c, format!("{pointer}/{i}"), out)),
            _ => {}
        }
    }

    /// Every list of names in the schema is the parser's: each name passes
    /// the parser's check of that field (the file may still fail later for
    /// other reasons, e.g. a distribution's parameters), and a name off the
    /// list is refused there. A list without a `Place` fails the test.
    #[test]
    fn every_listed_name_is_accepted_and_no_other() {
        let scenario = scenario_schema();
        let mut lists = Vec::new();
        enums(&scenario, String::new(), &mut lists);
        let places = places();
        assert_eq!(lists.len(), places.len(), "lists in the schema: {lists:?}");
        let refused_at = |text: &str, field: &str, value: &str| -> bool {
            let e = if field.starts_with("sweep") { crate::sweep::expand("t.toml", text, None).err() } else { crate::parse(&format!("{SCENARIOS}/t.toml"), text).err() };
            matches!(e, Some(crate::ScenarioError::Invalid { field: f, message, .. }) if f == field && message.contains(&format!("found {value:?}")))
        };
        for (pointer, names) in &lists {
            let place = places.iter().find(|p| p.pointer == pointer).unwrap_or_else(|| panic!("no Place for the list at {pointer}"));
            for name in names {
                assert!(!refused_at(&(place.text)(name), place.field, name), "{pointer}: {name:?} is listed but the parser refuses it");
            }
            assert!(refused_at(&(place.text)("zz-not-a-name"), place.field, "zz-not-a-name"), "{pointer}: a name off the list passes");
        }

        let topology = topology_schema();
        let mut lists = Vec::new();
        enums(&topology, String::new(), &mut lists);
        // The loss model is the scenario's (one definition, checked above).
        lists.retain(|l| l.0 != "/definitions/LossModel/properties/model");
        assert_eq!(lists.iter().map(|l| l.0.as_str()).collect::<Vec<_>>(), ["/definitions/BackboneLink/properties/class", "/definitions/Idc/properties/role"]);
        let china = std::fs::read_to_string(format!("{SCENARIOS}/topologies/china.toml")).unwrap();
        for name in lists[1].1.iter().map(String::as_str).chain(["zz-not-a-name"]) {
            let e = crate::topology::parse_topology("t.toml", &china.replacen("role = \"source\"", &format!("role = {name:?}"), 1)).err();
            let refused = matches!(&e, Some(crate::ScenarioError::Invalid { field, .. }) if field == "idcs[0].role");
            assert_eq!(refused, name == "zz-not-a-name", "{name}: {e:?}");
        }
        let global = std::fs::read_to_string(format!("{SCENARIOS}/topologies/global.toml")).unwrap();
        for name in lists[0].1.iter().map(String::as_str).chain(["zz-not-a-name"]) {
            let e = crate::topology::parse_topology("t.toml", &global.replacen("class = \"submarine\", route", &format!("class = {name:?}, route"), 1)).err();
            let refused = matches!(&e, Some(crate::ScenarioError::Invalid { field, message, .. }) if field.ends_with("].class") && message.contains("found \"zz-not-a-name\""));
            assert_eq!(refused, name == "zz-not-a-name", "{name}: {e:?}");
        }
    }
}
