//! After rendering: relations of nodes, `ref`/`source` resolution, placeholder
//! substitution and ephemeral CTE inlining.

use std::collections::{BTreeMap, HashMap};

use modelc_core::{did_you_mean, DbConfig, Diagnostic, Node, Relation, ResourceType, SourceTable};
use modelc_template::{placeholder, Jinja, NodeContext, Part, Target};
use serde_json::json;

/// Computes where a node is materialized, following dbt's `generate_schema_name`
/// and `generate_alias_name` (calling the project's own versions when it has them).
pub fn relation_for(node: &Node, db: &DbConfig, jinja: &Jinja, diags: &mut Vec<Diagnostic>) -> Option<Relation> {
    if node.resource_type == ResourceType::Analysis || node.is_ephemeral() {
        return None;
    }
    let cfg = &node.config;
    let custom_schema = match node.resource_type {
        ResourceType::Test => Some(cfg.get_str("schema").unwrap_or_else(|| "dbt_test__audit".into())),
        _ => cfg.get_str("schema"),
    };
    // Only projects that override a generate_*_name macro call one: build its
    // arguments then.
    let mut call = |macro_name: &str, arg: Option<String>| -> Option<String> {
        let node_json = json!({
            "name": node.name, "unique_id": node.unique_id, "resource_type": node.resource_type.as_str(),
            "original_file_path": node.original_file_path, "fqn": node.fqn, "config": node.config.0,
        });
        let ctx = NodeContext {
            name: node.name.clone(),
            unique_id: node.unique_id.clone(),
            resource_type: node.resource_type.as_str().into(),
            original_file_path: node.original_file_path.clone(),
            config: node.config.0.clone(),
            is_incremental: false,
            package: node.package_name.clone(),
            ..NodeContext::default()
        };
        match jinja.call_macro(macro_name, &[json!(arg), node_json], &ctx) {
            Ok(s) => Some(s.trim().to_string()),
            Err(e) => {
                diags.push(e.to_diagnostic(&node.original_file_path));
                None
            }
        }
    };
    let schema = match (node.resource_type, cfg.get_str("target_schema")) {
        (ResourceType::Snapshot, Some(ts)) => ts,
        _ if jinja.is_overridden("generate_schema_name") => call("generate_schema_name", custom_schema)?,
        _ => match custom_schema {
            Some(c) => format!("{}_{}", db.schema, c.trim()),
            None => db.schema.clone(),
        },
    };
    let database = match (node.resource_type, cfg.get_str("target_database")) {
        (ResourceType::Snapshot, Some(td)) => td,
        _ if jinja.is_overridden("generate_database_name") => call("generate_database_name", cfg.get_str("database"))?,
        _ => cfg.get_str("database").unwrap_or_else(|| db.database.clone()),
    };
    let identifier = if jinja.is_overridden("generate_alias_name") {
        call("generate_alias_name", cfg.get_str("alias"))?
    } else {
        cfg.get_str("alias").unwrap_or_else(|| node.name.clone())
    };
    Some(Relation {
        database,
        schema,
        identifier,
    })
}

/// 1-based line and column of the first `ref(`/`source(` call naming `name` in `text`.
pub fn locate_call(text: &str, func: &str, name: &str) -> (usize, usize) {
    let mut search = 0;
    while let Some(i) = text[search..].find(func) {
        let start = search + i;
        let rest = &text[start..];
        let end = rest.find(')').unwrap_or(rest.len());
        if rest[..end].contains(&format!("'{name}'")) || rest[..end].contains(&format!("\"{name}\"")) {
            let before = &text[..start];
            let line = before.matches('\n').count() + 1;
            let col = start - before.rfind('\n').map(|p| p + 1).unwrap_or(0) + 1;
            return (line, col);
        }
        search = start + func.len();
    }
    (0, 0)
}

/// 1-based line and column of the first occurrence of `word` in `text` ((1, 1) if absent).
pub fn locate_word(text: &str, word: &str) -> (usize, usize) {
    match text.find(word) {
        Some(i) => {
            let before = &text[..i];
            (
                before.matches('\n').count() + 1,
                i - before.rfind('\n').map(|p| p + 1).unwrap_or(0) + 1,
            )
        }
        None => (1, 1),
    }
}

/// Lookup tables for resolution.
pub struct Index<'a> {
    /// Refable nodes (models, seeds, snapshots) by name: one per package that has it.
    pub by_name: HashMap<&'a str, Vec<&'a Node>>,
    /// Names of disabled nodes, for a better error.
    pub disabled: &'a [String],
    /// Sources by (source, table).
    pub sources: HashMap<(&'a str, &'a str), &'a SourceTable>,
    /// The project's name.
    pub project: &'a str,
}

/// A node's resolved `ref` and `source` targets (unique ids), in call order.
pub type Deps = (Vec<String>, Vec<String>);

impl<'a> Index<'a> {
    /// The node `ref(package?, name)` from a node of package `from` names, as dbt
    /// resolves it: the named package; else the caller's own package, then the root
    /// project, then the one other package that has it.
    fn find(&self, package: Option<&str>, name: &str, version: Option<&str>, from: &str) -> Option<&'a Node> {
        let candidates = self.by_name.get(name)?;
        // A versioned model: the version asked for, else its latest.
        let wanted = |n: &Node| match (&n.version, version) {
            (None, _) => true,
            (Some(v), Some(asked)) => v == asked.trim_matches(['"', '\'']),
            (Some(v), None) => n.latest_version.as_ref() == Some(v),
        };
        let in_package = |p: &str| candidates.iter().copied().find(|n| n.package_name == p && wanted(n));
        match package {
            Some(p) => in_package(p),
            None => in_package(from).or_else(|| in_package(self.project)).or_else(|| {
                let mut found = candidates.iter().copied().filter(|n| wanted(n));
                match (found.next(), found.next()) {
                    (Some(n), None) => Some(n),
                    _ => None,
                }
            }),
        }
    }
}

/// Resolves a node's refs and sources to unique ids; errors for unknown names.
pub fn resolve_deps(node: &Node, index: &Index<'_>, diags: &mut Vec<Diagnostic>) -> Option<Deps> {
    let mut ok = true;
    let mut refs = Vec::new();
    let file = &node.original_file_path;
    let locate = |func: &str, name: &str| {
        let (l, c) = locate_call(&node.raw_code, func, name);
        if l == 0 {
            (node.defined_at_line, 1)
        } else {
            (
                l + node.defined_at_line.saturating_sub(1) * usize::from(node.resource_type == ResourceType::Test),
                c,
            )
        }
    };
    for r in &node.refs {
        // Located only for an error: searching the text is most of the work here.
        let at = || locate("ref(", &r.name);
        match index.find(r.package.as_deref(), &r.name, r.version.as_deref(), &node.package_name) {
            Some(target) => refs.push(target.unique_id.clone()),
            None => {
                let (line, col) = at();
                let mut d = if index.disabled.contains(&r.name) {
                    Diagnostic::error(
                        "disabled-ref",
                        format!(
                            "{} '{}' refers to '{}', which is disabled",
                            node.resource_type, node.name, r.name
                        ),
                    )
                } else {
                    Diagnostic::error(
                        "unknown-ref",
                        match &r.package {
                            Some(p) => format!(
                                "{} '{}' refers to '{}' in package '{p}', which has no such node",
                                node.resource_type, node.name, r.name
                            ),
                            None => format!(
                                "{} '{}' refers to '{}', which does not exist",
                                node.resource_type, node.name, r.name
                            ),
                        },
                    )
                }
                .at(file, line, col);
                if let Some(s) = did_you_mean(&r.name, index.by_name.keys().copied()) {
                    d = d.with_help(format!("did you mean ref('{s}')?"));
                }
                diags.push(d);
                ok = false;
            }
        }
    }
    let mut sources = Vec::new();
    for (s, t) in &node.sources {
        match index.sources.get(&(s.as_str(), t.as_str())) {
            Some(st) => sources.push(st.unique_id.clone()),
            None => {
                let (line, col) = locate("source(", t);
                let mut d = Diagnostic::error(
                    "unknown-source",
                    format!(
                        "{} '{}' reads source('{s}', '{t}'), which is not defined",
                        node.resource_type, node.name
                    ),
                )
                .at(file, line, col);
                let names: Vec<String> = index.sources.keys().map(|(a, b)| format!("{a}.{b}")).collect();
                if let Some(sug) = did_you_mean(&format!("{s}.{t}"), names.iter().map(String::as_str)) {
                    let (a, b) = sug.split_once('.').unwrap_or((sug, ""));
                    d = d.with_help(format!("did you mean source('{a}', '{b}')?"));
                } else {
                    d = d.with_help("declare it under 'sources:' in a YAML file of the model paths");
                }
                diags.push(d);
                ok = false;
            }
        }
    }
    ok.then_some((refs, sources))
}

/// The CTE name dbt gives an ephemeral model.
pub fn cte_name(name: &str) -> String {
    format!("__dbt__cte__{name}")
}

/// `--empty`: each `ref` and `source` reads no rows, as dbt's `render_limited`
/// renders them, so the whole DAG's SQL and schemas are checked in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Empty {
    /// The engine needs an alias on a subquery in `FROM` (dbt's `require_alias`).
    pub alias: bool,
}

impl Empty {
    /// `(select * from <relation> where false limit 0)`, aliased where the engine
    /// needs it.
    fn limited(self, rendered: String, identifier: &str) -> String {
        let alias = if self.alias {
            format!(" _dbt_limit_subq_{identifier}")
        } else {
            String::new()
        };
        format!("(select * from {rendered} where false limit 0){alias}")
    }
}

/// Substitutes placeholders of a rendered node. `ref_ids`/`source_ids` are indexed
/// like the node's refs/sources. With `empty`, whole `ref`s and `source`s of built
/// relations read no rows (`this`, ephemeral models and parts stay as they are).
pub fn substitute(
    sql: &str,
    node: &Node,
    (ref_ids, source_ids): (&[String], &[String]),
    nodes: &BTreeMap<String, Node>,
    sources: &BTreeMap<String, SourceTable>,
    empty: Option<Empty>,
) -> String {
    let part_of = |rel: &Relation, part: Part| match part {
        Part::Whole => rel.to_string(),
        Part::Database => rel.database.clone(),
        Part::Schema => rel.schema.clone(),
        Part::Identifier => rel.identifier.clone(),
    };
    placeholder::resolve(sql, |target, part| match target {
        Target::This => node
            .relation
            .as_ref()
            .map(|r| part_of(r, part))
            .or_else(|| Some(cte_name(&node.name))),
        Target::Ref(i) => {
            let n = nodes.get(ref_ids.get(i)?)?;
            match &n.relation {
                Some(r) => Some(match (empty, part) {
                    (Some(e), Part::Whole) => e.limited(r.to_string(), &r.identifier),
                    _ => part_of(r, part),
                }),
                None if part == Part::Identifier || part == Part::Whole => Some(cte_name(&n.name)),
                None => Some(String::new()),
            }
        }
        Target::Source(i) => {
            let s = sources.get(source_ids.get(i)?)?;
            Some(match (empty, part) {
                (Some(e), Part::Whole) => e.limited(s.render(), &s.relation.identifier),
                (None, Part::Whole) => s.render(),
                (_, p) => part_of(&s.relation, p),
            })
        }
    })
}

/// Inlines ephemeral models as CTEs, the way dbt does: into an existing leading
/// `WITH` clause, or as a new one. `ctes` are (name, sql) in dependency order.
pub fn inject_ctes(sql: &str, ctes: &[(String, String)]) -> String {
    if ctes.is_empty() {
        return sql.to_string();
    }
    let defs: Vec<String> = ctes.iter().map(|(n, s)| format!("{n} as (\n{}\n)", s.trim())).collect();
    let defs = defs.join(", ");
    let start = skip_comments(sql);
    let rest = &sql[start..];
    let word: String = rest.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
    if word.eq_ignore_ascii_case("with") {
        let after_with = start + 4;
        let tail = &sql[after_with..];
        let t = tail.trim_start();
        let recursive: String = t.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
        let insert_at = if recursive.eq_ignore_ascii_case("recursive") {
            after_with + (tail.len() - t.len()) + 9
        } else {
            after_with
        };
        format!("{} {defs}, {}", &sql[..insert_at], sql[insert_at..].trim_start())
    } else {
        format!("{}with {defs}\n{}", &sql[..start], rest)
    }
}

/// Gives the ephemeral model's CTE `name`, as [`inject_ctes`] wrote it, the body
/// `select` (a unit test's rows for that model), then drops the ephemeral CTEs
/// nothing reads any more (those only the old body read). `None` when `sql`
/// has no such CTE.
pub fn replace_cte(sql: &str, name: &str, select: &str) -> Option<String> {
    let (_, body, close) = cte_at(sql, name)?;
    let mut out = format!("{}{select}\n{}", &sql[..body], &sql[close..]);
    while let Some((start, end)) = unused_cte(&out) {
        out.replace_range(start..end, "");
    }
    Some(out)
}

/// Where the CTE `name` is defined: its start, its body's start, and its
/// closing parenthesis.
fn cte_at(sql: &str, name: &str) -> Option<(usize, usize, usize)> {
    let head = format!("{name} as (\n");
    let start = sql
        .match_indices(&head)
        .map(|(i, _)| i)
        .find(|&i| !ident_before(sql, i))?;
    let body = start + head.len();
    Some((start, body, matching_paren(sql, body)?))
}

fn ident_before(sql: &str, i: usize) -> bool {
    sql[..i]
        .chars()
        .next_back()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The span of an ephemeral CTE's definition (with the `, ` after it) whose name
/// occurs nowhere else.
fn unused_cte(sql: &str) -> Option<(usize, usize)> {
    let prefix = cte_name("");
    for (i, _) in sql.match_indices(&prefix) {
        let name: String = sql[i..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let Some((start, _, close)) = cte_at(sql, &name).filter(|(start, ..)| *start == i) else {
            continue;
        };
        let uses = sql
            .match_indices(&name)
            .filter(|(j, _)| {
                !ident_before(sql, *j)
                    && !sql[j + name.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            })
            .count();
        if uses == 1 {
            let end = close + 1;
            let end = if sql[end..].starts_with(", ") { end + 2 } else { end };
            return Some((start, end));
        }
    }
    None
}

/// The index of the `)` that closes the parenthesis opened just before `from`,
/// past quoted strings, quoted names and comments.
fn matching_paren(sql: &str, from: usize) -> Option<usize> {
    let b = sql.as_bytes();
    let mut depth = 1;
    let mut i = from;
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'"') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Byte offset of the first token after whitespace and SQL comments.
fn skip_comments(sql: &str) -> usize {
    let mut i = 0;
    let b = sql.as_bytes();
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if sql[i..].starts_with("--") {
            i = sql[i..].find('\n').map(|p| i + p + 1).unwrap_or(b.len());
        } else if sql[i..].starts_with("/*") {
            i = sql[i..].find("*/").map(|p| i + p + 2).unwrap_or(b.len());
        } else {
            return i;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctes_are_injected_like_dbt() {
        let ctes = vec![("__dbt__cte__e".to_string(), "select 1 as x".to_string())];
        assert_eq!(
            inject_ctes("select * from __dbt__cte__e", &ctes),
            "with __dbt__cte__e as (\nselect 1 as x\n)\nselect * from __dbt__cte__e"
        );
        assert_eq!(
            inject_ctes("-- c\nWITH a as (select 2) select * from a, __dbt__cte__e", &ctes),
            "-- c\nWITH __dbt__cte__e as (\nselect 1 as x\n), a as (select 2) select * from a, __dbt__cte__e"
        );
        assert_eq!(
            inject_ctes("with recursive r as (select 1) select 1", &ctes),
            "with recursive __dbt__cte__e as (\nselect 1 as x\n), r as (select 1) select 1"
        );
    }

    /// An ephemeral model's CTE takes a unit test's rows; the ephemeral CTEs only
    /// it read go (DuckDB binds unused CTEs too), and the rest stay.
    #[test]
    fn a_cte_is_replaced_and_what_only_it_read_dropped() {
        let ctes = vec![
            (
                "__dbt__cte__base".to_string(),
                "select ')' as p from \"db\".\"main\".\"raw\" -- (".to_string(),
            ),
            (
                "__dbt__cte__e".to_string(),
                "select * from __dbt__cte__base".to_string(),
            ),
            ("__dbt__cte__e2".to_string(), "select 2 as y".to_string()),
        ];
        let sql = inject_ctes(
            "with a as (select 1) select * from a, __dbt__cte__e, __dbt__cte__e2",
            &ctes,
        );
        assert_eq!(
            replace_cte(&sql, "__dbt__cte__e", r#"select * from "__modelc_given_0""#).as_deref(),
            Some("with __dbt__cte__e as (\nselect * from \"__modelc_given_0\"\n), __dbt__cte__e2 as (\nselect 2 as y\n), a as (select 1) select * from a, __dbt__cte__e, __dbt__cte__e2")
        );
        assert_eq!(replace_cte(&sql, "__dbt__cte__nope", "select 1"), None);
    }

    #[test]
    fn calls_are_located() {
        let text = "select *\nfrom {{ ref('a') }}\n  join {{ ref( \"b\" ) }}";
        assert_eq!(locate_call(text, "ref(", "a"), (2, 9));
        assert_eq!(locate_call(text, "ref(", "b"), (3, 11));
        assert_eq!(locate_call(text, "ref(", "c"), (0, 0));
    }
}
