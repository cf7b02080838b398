//! Rewrites dbt's block tags that Jinja does not know into plain Jinja.
//!
//! - `{% macro name(...) %}` in macro files is renamed to `__modelc_macro_name`, so
//!   that every call goes through the global wrapper of the same name (which gives
//!   dbt's `return()` semantics and one namespace for all macro files).
//! - `{% test name(...) %}` / `{% endtest %}` become the macro `test_name`.
//! - `{% snapshot name %}` ... `{% endsnapshot %}` blocks are cut out of snapshot files.
//! - `{% docs name %}` ... `{% enddocs %}` blocks are cut out of Markdown files.
//! - List and dict literals in `{% set %}` and `{% do %}` tags become mutable
//!   objects ([`mutable_literals`]), so `x.append(...)` works as in Jinja2.
//!
//! Rewrites never add or remove line breaks, so error lines stay true.

/// Prefix of the real macro inside its template.
pub const MACRO_PREFIX: &str = "__modelc_macro_";

/// A block tag found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockTag {
    /// The keyword (`macro`, `test`, `snapshot`, `docs`, `endtest`, ...).
    pub keyword: String,
    /// The name after the keyword, if any.
    pub name: String,
    /// Byte range of the whole tag `{% ... %}`.
    pub start: usize,
    /// End of the tag (exclusive).
    pub end: usize,
    /// Byte offset of the name.
    pub name_start: usize,
    /// 1-based line of the tag.
    pub line: usize,
}

/// Scans all `{% keyword name ... %}` tags for the given keywords, skipping
/// `{# comments #}` and `{% raw %}` sections.
pub fn scan_tags(text: &str, keywords: &[&str]) -> Vec<BlockTag> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut in_raw = false;
    while i + 1 < bytes.len() {
        if bytes[i] == b'{' && bytes[i + 1] == b'#' {
            match text[i + 2..].find("#}") {
                Some(e) => {
                    i = i + 2 + e + 2;
                    continue;
                }
                None => break,
            }
        }
        if bytes[i] == b'{' && bytes[i + 1] == b'%' {
            let Some(close) = text[i + 2..].find("%}") else { break };
            let end = i + 2 + close + 2;
            let inner_start = i + 2;
            let inner = &text[inner_start..i + 2 + close];
            let lead = inner.len() - inner.trim_start_matches(['-', '+']).trim_start().len();
            let body = &inner[lead..];
            let keyword: String = body
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if keyword == "raw" {
                in_raw = true;
            } else if keyword == "endraw" {
                in_raw = false;
            } else if !in_raw && keywords.contains(&keyword.as_str()) {
                let after = &body[keyword.len()..];
                let ws = after.len() - after.trim_start().len();
                let name: String = after
                    .trim_start()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let name_start = inner_start + lead + keyword.len() + ws;
                out.push(BlockTag {
                    keyword,
                    name,
                    start: i,
                    end,
                    name_start,
                    line: line_of(text, i),
                });
            }
            i = end;
            continue;
        }
        i += 1;
    }
    out
}

/// 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// A macro (or generic test) defined in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacroDef {
    /// The name it is called by (`test_<name>` for generic tests).
    pub name: String,
    /// 1-based line of its definition.
    pub line: usize,
    /// `true` when defined with `{% test %}`.
    pub is_test: bool,
    /// Its source as written, from the opening tag to the closing one (for the manifest's `macro_sql`).
    pub sql: String,
    /// Its declared parameters, when its body reads Jinja2's `kwargs` or `varargs`
    /// (which minijinja lacks): the definition then takes them as parameters, and a
    /// call's extra arguments are passed in them.
    pub params: Option<Vec<String>>,
}

/// The parameter names of a macro signature `name(a, b=1, c=[1, 2])`, and the byte
/// offset of its closing parenthesis; `None` when it has none.
fn signature(text: &str, from: usize) -> Option<(Vec<String>, usize)> {
    let open = from + text[from..].find('(')?;
    let bytes = text.as_bytes();
    let (mut depth, mut i, mut start) = (0usize, open + 1, open + 1);
    let mut names = Vec::new();
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let b = bytes[i];
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'\'' | b'"') => quote = Some(b),
            (None, b'(' | b'[' | b'{') => depth += 1,
            (None, b')') if depth == 0 => {
                let last = text[start..i].split('=').next().unwrap_or("").trim();
                if !last.is_empty() {
                    names.push(last.to_string());
                }
                return Some((names, i));
            }
            (None, b')' | b']' | b'}') => depth = depth.saturating_sub(1),
            (None, b',') if depth == 0 => {
                names.push(text[start..i].split('=').next().unwrap_or("").trim().to_string());
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Whether a macro body reads `word` as a name (not as part of another name).
fn reads_name(body: &str, word: &str) -> bool {
    body.match_indices(word).any(|(at, _)| {
        let before = body[..at].chars().next_back();
        let after = body[at + word.len()..].chars().next();
        let ident = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        !ident(before) && !ident(after) && before != Some('.')
    })
}

/// Rewrites a macro file: renames macros and turns `test` blocks into macros.
pub fn rewrite_macro_file(text: &str) -> (String, Vec<MacroDef>) {
    let tags = scan_tags(
        text,
        &[
            "macro",
            "endmacro",
            "test",
            "endtest",
            "materialization",
            "endmaterialization",
        ],
    );
    let mut out = String::with_capacity(text.len() + tags.len() * 16);
    let mut defs: Vec<MacroDef> = Vec::new();
    let mut pos = 0;
    // The definition whose closing tag comes next, and where its opening tag starts.
    let mut open: Option<usize> = None;
    for tag in tags {
        if let ("endmacro" | "endtest", Some(start)) = (tag.keyword.as_str(), open.take()) {
            if let Some(def) = defs.last_mut() {
                def.sql = text[start..tag.end].to_string();
            }
        }
        match tag.keyword.as_str() {
            "macro" | "test" if !tag.name.is_empty() => {
                let is_test = tag.keyword == "test";
                let name = if is_test {
                    format!("test_{}", tag.name)
                } else {
                    tag.name.clone()
                };
                out.push_str(&text[pos..tag.start]);
                let head = &text[tag.start..tag.name_start];
                out.push_str(&head.replacen("test", "macro", usize::from(is_test)));
                out.push_str(MACRO_PREFIX);
                out.push_str(&name);
                pos = tag.name_start + tag.name.len();
                // A body that reads `kwargs`/`varargs` gets them as parameters.
                let body_end = text[tag.end..].find("endmacro").map_or(text.len(), |e| tag.end + e);
                let body = &text[tag.end..body_end];
                let mut params = None;
                if reads_name(body, "kwargs") || reads_name(body, "varargs") {
                    if let Some((names, close)) = signature(text, pos).filter(|(_, c)| *c < tag.end) {
                        let mut extra = String::new();
                        for (p, default) in [("kwargs", "{}"), ("varargs", "[]")] {
                            if !names.iter().any(|n| n == p) {
                                let sep = if names.is_empty() && extra.is_empty() { "" } else { ", " };
                                extra.push_str(&format!("{sep}{p}={default}"));
                            }
                        }
                        out.push_str(&text[pos..close]);
                        out.push_str(&extra);
                        pos = close;
                        params = Some(names);
                    }
                }
                defs.push(MacroDef {
                    name,
                    line: tag.line,
                    is_test,
                    sql: String::new(),
                    params,
                });
                open = Some(tag.start);
            }
            "endtest" => {
                out.push_str(&text[pos..tag.start]);
                out.push_str(&text[tag.start..tag.end].replacen("endtest", "endmacro", 1));
                pos = tag.end;
            }
            _ => {}
        }
    }
    out.push_str(&text[pos..]);
    let out = match expressions(&out) {
        std::borrow::Cow::Borrowed(_) => out,
        std::borrow::Cow::Owned(o) => o,
    };
    (out, defs)
}

/// The rewrites of a template's expressions that let minijinja run dbt's Jinja:
/// [`mutable_literals`], then [`datetime_arithmetic`].
pub fn expressions(text: &str) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    match mutable_literals(text) {
        Cow::Borrowed(t) => datetime_arithmetic(t),
        Cow::Owned(t) => match datetime_arithmetic(&t) {
            Cow::Borrowed(_) => Cow::Owned(t),
            Cow::Owned(o) => Cow::Owned(o),
        },
    }
}

/// The function [`datetime_arithmetic`] calls: `(left, '+' or '-', right)`.
pub const DATETIME_OP_FN: &str = "__modelc_datetime_op";

/// Rewrites `a - <x>.timedelta(...)` and `a + <x>.timedelta(...)` (Python's date
/// arithmetic, which Jinja2 gets from Python and minijinja has no operator for) into
/// `__modelc_datetime_op(a, '-', <x>.timedelta(...))`. The left operand is what
/// Jinja2 would take: back to the enclosing bracket, a comma, colon, comparison,
/// `=` or keyword (`+`, `-` and `~` bind tighter, so they are part of it). The
/// right operand may also be a name the same file sets to a timedelta
/// (`{% set week = modules.datetime.timedelta(days=7) %}` ... `d - week`).
/// Borrowed when nothing changes.
pub fn datetime_arithmetic(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains("timedelta") {
        return std::borrow::Cow::Borrowed(text);
    }
    let names = timedelta_names(text);
    let Some(mut next) = next_timedelta_op(text, &names) else {
        return std::borrow::Cow::Borrowed(text);
    };
    let mut out = text.to_string();
    // One rewrite at a time, from the start: each removes one operator, and the
    // next may enclose it.
    loop {
        let (left, op, right_end) = next;
        let (op_at, right_start) = op;
        let lhs = out[left..op_at].trim_end().to_string();
        let sign = &out[op_at..op_at + 1];
        let rhs = out[right_start..right_end].to_string();
        let call = format!("{DATETIME_OP_FN}({lhs}, '{sign}', {rhs})");
        // Line breaks between the operands are kept after the call.
        let breaks = "\n".repeat(
            out[left..right_end]
                .matches('\n')
                .count()
                .saturating_sub(call.matches('\n').count()),
        );
        out.replace_range(left..right_end, &format!("{call}{breaks}"));
        match next_timedelta_op(&out, &names) {
            Some(n) => next = n,
            None => return std::borrow::Cow::Owned(out),
        }
    }
}

/// The names a template's `{% set name = <x>.timedelta(...) %}` statements give a
/// timedelta (the whole value one call).
fn timedelta_names(text: &str) -> Vec<String> {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    expression_regions(text)
        .into_iter()
        .filter_map(|(start, end)| {
            let inner = text[start..end].trim_matches(['-', '+']).trim();
            let rest = inner.strip_prefix("set")?;
            let (name, value) = rest.split_once('=')?;
            let name = name.trim();
            if !rest.starts_with(char::is_whitespace) || name.is_empty() || !name.chars().all(is_word) {
                return None;
            }
            let value = value.trim();
            let open = value.find('(')?;
            let callee = value[..open].trim_end();
            let is_timedelta = callee == "timedelta" || callee.ends_with(".timedelta");
            (is_timedelta && matching_paren(value, open, value.len()) == Some(value.len() - 1))
                .then(|| name.to_string())
        })
        .collect()
}

/// The first `a ± <x>.timedelta(...)` (or `a ± name`, a name of `names`) of a
/// template's expressions: the left operand's start, the operator's and the right
/// operand's offsets, and its end.
fn next_timedelta_op(text: &str, names: &[String]) -> Option<(usize, (usize, usize), usize)> {
    let bytes = text.as_bytes();
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    for (start, end) in expression_regions(text) {
        let region = &text[start..end];
        // Each right operand there, in order: its start and its end.
        let mut operands: Vec<(usize, usize)> = Vec::new();
        for (found, _) in region.match_indices("timedelta") {
            let at = start + found;
            let name_end = at + "timedelta".len();
            if bytes.get(name_end).copied().is_some_and(is_word) || in_string(&region[..found]) {
                continue;
            }
            // The dotted name the call starts with (`modules.datetime.timedelta`).
            let mut right_start = at;
            while right_start > start && (is_word(bytes[right_start - 1]) || bytes[right_start - 1] == b'.') {
                right_start -= 1;
            }
            let open = name_end + text[name_end..end].len() - text[name_end..end].trim_start().len();
            if bytes.get(open) != Some(&b'(') {
                continue;
            }
            if let Some(close) = matching_paren(text, open, end) {
                operands.push((right_start, close + 1));
            }
        }
        for name in names {
            for (found, _) in region.match_indices(name.as_str()) {
                let at = start + found;
                let name_end = at + name.len();
                let before = bytes[at - 1];
                let after = bytes.get(name_end).copied().unwrap_or(b' ');
                if is_word(before) || before == b'.' || is_word(after) || matches!(after, b'(' | b'.' | b'[') {
                    continue;
                }
                if !in_string(&region[..found]) {
                    operands.push((at, name_end));
                }
            }
        }
        operands.sort_unstable();
        for (right_start, right_end) in operands {
            // A binary `+` or `-` before it.
            let before = text[start..right_start].trim_end();
            let op_at = start + before.len();
            if op_at == start || !matches!(bytes[op_at - 1], b'+' | b'-') {
                continue;
            }
            let op_at = op_at - 1;
            let operand_end = text[start..op_at].trim_end();
            let last = operand_end.as_bytes().last().copied();
            if !last.is_some_and(|b| is_word(b) || matches!(b, b')' | b']' | b'\'' | b'"')) {
                continue; // unary
            }
            let left = left_operand_start(text, start, op_at);
            if left >= op_at {
                continue;
            }
            return Some((left, (op_at, right_start), right_end));
        }
    }
    None
}

/// Whether the end of an expression's text is inside a string literal.
fn in_string(text: &str) -> bool {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in text.chars() {
        match quote {
            Some(_) if escaped => escaped = false,
            Some(_) if c == '\\' => escaped = true,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None => {}
        }
    }
    quote.is_some()
}

/// The offset of the `)` closing the `(` at `open`, strings skipped.
fn matching_paren(text: &str, open: usize, end: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    let mut i = open;
    while i < end {
        let b = bytes[i];
        match quote {
            Some(_) if b == b'\\' => i += 1,
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None => match b {
                b'\'' | b'"' => quote = Some(b),
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        return Some(i);
                    }
                }
                _ => {}
            },
        }
        i += 1;
    }
    None
}

/// Where the left operand of a binary `+`/`-` at `op` starts: after the enclosing
/// bracket, the last comma, colon, comparison or `=`, or keyword before it at its
/// bracket depth (leading whitespace skipped).
fn left_operand_start(text: &str, start: usize, op: usize) -> usize {
    let bytes = text.as_bytes();
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut depth = 0usize;
    let mut i = op;
    let mut cut = start;
    while i > start {
        i -= 1;
        let b = bytes[i];
        match b {
            b'\'' | b'"' => {
                // Back over the string.
                match text[start..i].rfind(b as char) {
                    Some(q) => i = start + q,
                    None => break,
                }
            }
            b')' | b']' | b'}' => depth += 1,
            b'(' | b'[' | b'{' => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => {
                    cut = i + 1;
                    break;
                }
            },
            b',' | b':' | b'=' | b'<' | b'>' | b'!' if depth == 0 => {
                cut = i + 1;
                break;
            }
            _ if depth == 0 && is_word(b) && (i == start || !is_word(bytes[i - 1])) => {
                let word_end = (i..op).find(|&j| !is_word(bytes[j])).unwrap_or(op);
                let after_dot = i > start && bytes[i - 1] == b'.';
                if !after_dot
                    && matches!(
                        &text[i..word_end],
                        "and" | "or" | "not" | "if" | "else" | "in" | "is" | "set" | "do" | "return" | "elif"
                    )
                {
                    cut = word_end;
                    break;
                }
            }
            _ => {}
        }
    }
    cut + text[cut..op].len() - text[cut..op].trim_start().len()
}

/// Wraps every list and dict literal of the template's expressions (`{{ }}` and
/// `{% %}`) in a call that makes it mutable (`[a]` → `__modelc_list([a])`, `{k: v}`
/// → `__modelc_dict({k: v})`): dbt code fills lists and dicts with `append` and
/// `update` (also lists it was passed, like a test's `group_by_columns`), which
/// minijinja's immutable values lack. Subscripts (`x[0]`) are left alone; string
/// literals, comments and `raw` blocks are skipped. Borrowed when nothing changes.
pub fn mutable_literals(text: &str) -> std::borrow::Cow<'_, str> {
    // Most templates have no `[` and no `{` but the delimiters': nothing to do.
    let bytes = text.as_bytes();
    let literal_possible = bytes.iter().enumerate().any(|(i, b)| match b {
        b'[' => true,
        b'{' => !matches!(bytes.get(i + 1), Some(b'{' | b'%' | b'#')) && (i == 0 || bytes[i - 1] != b'{'),
        _ => false,
    });
    if !literal_possible || (!text.contains("{{") && !text.contains("{%")) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut inserts: Vec<(usize, &str)> = Vec::new();
    for (start, end) in expression_regions(text) {
        literal_inserts(text, start, end, &mut inserts);
    }
    if inserts.is_empty() {
        return std::borrow::Cow::Borrowed(text);
    }
    inserts.sort_by_key(|(at, _)| *at);
    let mut out = String::with_capacity(text.len() + inserts.len() * 16);
    let mut pos = 0;
    for (at, piece) in inserts {
        out.push_str(&text[pos..at]);
        out.push_str(piece);
        pos = at;
    }
    out.push_str(&text[pos..]);
    std::borrow::Cow::Owned(out)
}

/// The longest chain of operators or filters (`'a' ~ 'b' ~ ...`, `x | f | g ...`)
/// one Jinja expression may have. minijinja parses such a chain in a loop but
/// compiles the tree it builds recursively: some thousands of links overflowed a
/// thread's stack (a crash, not an error).
pub const MAX_JINJA_CHAIN: usize = 1_000;

/// The 1-based line and column of the operator that makes a chain of a template's
/// expression longer than [`MAX_JINJA_CHAIN`] (operators and filters at one bracket
/// depth, counted from the last comma or colon), if one is.
pub fn overlong_chain(text: &str) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    for (start, end) in expression_regions(text) {
        // Links counted at each open bracket depth.
        let mut depths: Vec<usize> = vec![0];
        let mut quote: Option<u8> = None;
        let mut i = start;
        while i < end {
            let b = bytes[i];
            if let Some(q) = quote {
                if b == b'\\' {
                    i += 1;
                } else if b == q {
                    quote = None;
                }
                i += 1;
                continue;
            }
            let mut link = false;
            match b {
                b'\'' | b'"' => quote = Some(b),
                b'(' | b'[' | b'{' => depths.push(0),
                b')' | b']' | b'}' if depths.len() > 1 => {
                    depths.pop();
                }
                b',' | b':' => {
                    if let Some(top) = depths.last_mut() {
                        *top = 0;
                    }
                }
                b'~' | b'+' | b'-' | b'*' | b'/' | b'%' | b'|' | b'<' | b'>' | b'=' | b'!' => {
                    // `==`, `//`, `**`, `<=`: one operator.
                    while i + 1 < end && matches!(bytes[i + 1], b'=' | b'/' | b'*') {
                        i += 1;
                    }
                    link = true;
                }
                b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                    let word_end = (i..end)
                        .find(|&j| !(bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_'))
                        .unwrap_or(end);
                    let prev = i.checked_sub(1).map(|p| bytes[p]);
                    let after_dot = prev == Some(b'.');
                    link = !after_dot && matches!(&text[i..word_end], "and" | "or" | "in" | "is" | "if" | "else");
                    i = word_end - 1;
                }
                _ => {}
            }
            if link {
                if let Some(top) = depths.last_mut() {
                    *top += 1;
                    if *top > MAX_JINJA_CHAIN {
                        let line = line_of(text, i);
                        let col = text[..i].rfind('\n').map_or(i, |n| i - n - 1) + 1;
                        return Some((line, col));
                    }
                }
            }
            i += 1;
        }
    }
    None
}

/// The byte ranges of the expressions of a template: the insides of `{{ ... }}`
/// (ended by a `}}` outside strings and brackets, as Jinja's lexer balances them)
/// and of `{% ... %}` tags; comments and `raw` blocks are passed over.
fn expression_regions(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] != b'{' {
            i += 1;
            continue;
        }
        match bytes[i + 1] {
            b'#' => match text[i + 2..].find("#}") {
                Some(e) => i = i + 2 + e + 2,
                None => break,
            },
            b'%' => {
                let Some(close) = text[i + 2..].find("%}") else { break };
                let inner = (i + 2, i + 2 + close);
                let keyword = text[inner.0..inner.1].trim_start_matches(['-', '+']).trim_start();
                if keyword.starts_with("raw") && !keyword[3..].starts_with(|c: char| c.is_ascii_alphanumeric()) {
                    match text[inner.1..].find("endraw") {
                        Some(e) => i = inner.1 + e,
                        None => break,
                    }
                    continue;
                }
                out.push(inner);
                i = inner.1 + 2;
            }
            b'{' => {
                let start = i + 2;
                let mut j = start;
                let mut depth = 0usize;
                let mut quote: Option<u8> = None;
                let mut end = None;
                while j < bytes.len() {
                    let b = bytes[j];
                    match quote {
                        Some(q) if b == q => quote = None,
                        Some(_) if b == b'\\' => j += 1,
                        Some(_) => {}
                        None => match b {
                            b'\'' | b'"' => quote = Some(b),
                            b'(' | b'[' | b'{' => depth += 1,
                            b')' | b']' => depth = depth.saturating_sub(1),
                            b'}' if depth == 0 && bytes.get(j + 1) == Some(&b'}') => {
                                end = Some(j);
                                break;
                            }
                            b'}' => depth = depth.saturating_sub(1),
                            _ => {}
                        },
                    }
                    j += 1;
                }
                let Some(end) = end else { break };
                out.push((start, end));
                i = end + 2;
            }
            _ => i += 1,
        }
    }
    out
}

/// Finds the list and dict literals in `text[start..end]` and the texts to insert
/// around them.
fn literal_inserts(text: &str, start: usize, end: usize, inserts: &mut Vec<(usize, &str)>) {
    let bytes = text.as_bytes();
    // Open brackets: whether each is a literal.
    let mut stack: Vec<bool> = Vec::new();
    // The last significant byte before the current one, and the word it ends.
    let mut prev: Option<u8> = None;
    let mut word_start = start;
    let mut i = start;
    while i < end {
        let b = bytes[i];
        match b {
            b'\'' | b'"' => {
                // Skip the string literal.
                let mut j = i + 1;
                while j < end && bytes[j] != b {
                    j += if bytes[j] == b'\\' { 2 } else { 1 };
                }
                i = j + 1;
                prev = Some(b);
                continue;
            }
            b'[' | b'{' => {
                let word = &text[word_start..i].trim_end();
                let after_word = prev.is_some_and(|p| p.is_ascii_alphanumeric() || p == b'_')
                    && !matches!(
                        word.rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).next(),
                        Some("in" | "and" | "or" | "not" | "if" | "else" | "return" | "is")
                    );
                // `x[0]`, `f(a)[0]`, `d['k']` are subscripts; after an operator, a
                // comma, an opening bracket or a keyword, a literal.
                let literal = b == b'{' || !(after_word || matches!(prev, Some(b')' | b']' | b'}' | b'\'' | b'"')));
                if literal {
                    inserts.push((i, if b == b'[' { "__modelc_list(" } else { "__modelc_dict(" }));
                }
                stack.push(literal);
            }
            b']' | b'}' if stack.pop() == Some(true) => inserts.push((i + 1, ")")),
            _ => {}
        }
        if !b.is_ascii_whitespace() {
            if !(b.is_ascii_alphanumeric() || b == b'_') {
                word_start = i + 1;
            } else if !prev.is_some_and(|p| p.is_ascii_alphanumeric() || p == b'_') {
                word_start = i;
            }
            prev = Some(b);
        }
        i += 1;
    }
}

/// A `{% snapshot %}` or `{% docs %}` block cut out of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The block's name.
    pub name: String,
    /// 1-based line of the opening tag.
    pub line: usize,
    /// The body, preceded by as many newlines as lines before it, so a template
    /// made of it reports the file's own line numbers.
    pub body: String,
}

/// Extracts `{% kind name %}...{% endkind %}` blocks.
pub fn extract_blocks(text: &str, kind: &str) -> Result<Vec<Block>, (usize, String)> {
    let end_kw = format!("end{kind}");
    let tags = scan_tags(text, &[kind, end_kw.as_str()]);
    let mut out = Vec::new();
    let mut open: Option<&BlockTag> = None;
    for tag in &tags {
        if tag.keyword == kind {
            if let Some(o) = open {
                return Err((
                    tag.line,
                    format!(
                        "'{{% {kind} {} %}}' opened on line {} is not closed before this one",
                        o.name, o.line
                    ),
                ));
            }
            if tag.name.is_empty() {
                return Err((tag.line, format!("'{{% {kind} %}}' needs a name")));
            }
            open = Some(tag);
        } else if let Some(o) = open.take() {
            let body_start = o.end;
            let pad = "\n".repeat(line_of(text, body_start) - 1);
            out.push(Block {
                name: o.name.clone(),
                line: o.line,
                body: format!("{pad}{}", &text[body_start..tag.start]),
            });
        } else {
            return Err((
                tag.line,
                format!("'{{% {end_kw} %}}' without an opening '{{% {kind} %}}'"),
            ));
        }
    }
    if let Some(o) = open {
        return Err((
            o.line,
            format!("'{{% {kind} {} %}}' is never closed with '{{% {end_kw} %}}'", o.name),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macros_and_tests_are_renamed_in_place() {
        let src = "{# {% macro commented() %} #}\n{%- macro cents_to_dollars(col, scale=2) -%}\n({{ col }} / 100)::numeric(16, {{ scale }})\n{%- endmacro %}\n{% test is_positive(model, column_name) %}\nselect * from {{ model }} where {{ column_name }} < 0\n{% endtest %}\n";
        let (out, defs) = rewrite_macro_file(src);
        assert_eq!(out.lines().count(), src.lines().count());
        assert!(
            out.contains("{%- macro __modelc_macro_cents_to_dollars(col, scale=2) -%}"),
            "{out}"
        );
        assert!(
            out.contains("{% macro __modelc_macro_test_is_positive(model, column_name) %}"),
            "{out}"
        );
        assert!(out.contains("{% endmacro %}\n"), "{out}");
        assert_eq!(
            defs,
            vec![
                MacroDef {
                    name: "cents_to_dollars".into(),
                    line: 2,
                    is_test: false,
                    sql: "{%- macro cents_to_dollars(col, scale=2) -%}\n({{ col }} / 100)::numeric(16, {{ scale }})\n{%- endmacro %}"
                        .into(),
                    params: None,
                },
                MacroDef {
                    name: "test_is_positive".into(),
                    line: 5,
                    is_test: true,
                    sql: "{% test is_positive(model, column_name) %}\nselect * from {{ model }} where {{ column_name }} < 0\n{% endtest %}"
                        .into(),
                    params: None,
                },
            ]
        );
    }

    #[test]
    fn set_and_do_literals_become_mutable() {
        let cases = [
            ("{% set x = [] %}", "{% set x = __modelc_list([]) %}"),
            (
                "{%- do d.update({k: [1, 'a[b]']}) -%}",
                "{%- do d.update(__modelc_dict({k: __modelc_list([1, 'a[b]'])})) -%}",
            ),
            ("{% set y = x[0] + f(a)[1] %}", "{% set y = x[0] + f(a)[1] %}"),
            (
                "{% set y = a if b in [1] else [] %}",
                "{% set y = a if b in __modelc_list([1]) else __modelc_list([]) %}",
            ),
            (
                "{{ [1] }} {% for a in [1] %}{# [2] #}{% raw %}{{ [3] }}{% endraw %}",
                "{{ __modelc_list([1]) }} {% for a in __modelc_list([1]) %}{# [2] #}{% raw %}{{ [3] }}{% endraw %}",
            ),
            (
                "{{ {'a': {'b': 1}} }} x",
                "{{ __modelc_dict({'a': __modelc_dict({'b': 1})}) }} x",
            ),
            ("{{ x['}}'] }}", "{{ x['}}'] }}"),
            ("{% do return({}) %}", "{% do return(__modelc_dict({})) %}"),
        ];
        for (src, want) in cases {
            assert_eq!(mutable_literals(src), want, "{src}");
        }
    }

    #[test]
    fn datetime_arithmetic_becomes_a_call() {
        let f = DATETIME_OP_FN;
        let cases = [
            (
                "{{ modules.datetime.date.today() - modules.datetime.timedelta(365) }}",
                format!("{{{{ {f}(modules.datetime.date.today(), '-', modules.datetime.timedelta(365)) }}}}"),
            ),
            (
                "{% set start_date = (end_date - modules.datetime.timedelta(days=10)) %}",
                format!("{{% set start_date = ({f}(end_date, '-', modules.datetime.timedelta(days=10))) %}}"),
            ),
            // Left-associative: the first result is the left operand of the second.
            (
                "{{ d + timedelta(1) - timedelta(hours=2) }}",
                format!("{{{{ {f}({f}(d, '+', timedelta(1)), '-', timedelta(hours=2)) }}}}"),
            ),
            (
                "{% if x and d - dt.timedelta(1) > y %}",
                format!("{{% if x and {f}(d, '-', dt.timedelta(1)) > y %}}"),
            ),
            (
                "{{ f(a, b.c(1) - timedelta(days=n['k'])) }}",
                format!("{{{{ f(a, {f}(b.c(1), '-', timedelta(days=n['k']))) }}}}"),
            ),
            // Not arithmetic: a bare timedelta, a unary minus, a string, another name.
            (
                "{{ -timedelta(1) }} {{ 'a - timedelta(1)' }}",
                "{{ -timedelta(1) }} {{ 'a - timedelta(1)' }}".into(),
            ),
            (
                "{{ a - timedeltas(1) }} {{ timedelta(1) }}",
                "{{ a - timedeltas(1) }} {{ timedelta(1) }}".into(),
            ),
            // A name the file sets to a timedelta, wherever it is used after.
            (
                "{%- set week = modules.datetime.timedelta(days=7) -%}\n{{ d - week }} {{ (d + week).year }}",
                format!(
                    "{{%- set week = modules.datetime.timedelta(days=7) -%}}\n{{{{ {f}(d, '-', week) }}}} {{{{ ({f}(d, '+', week)).year }}}}"
                ),
            ),
            // Not that name: another word, an attribute, a call, a string, no timedelta set.
            (
                "{% set week = timedelta(7) %}{{ d - weeks }}{{ d - x.week }}{{ d - week.days }}{{ 'd - week' }}",
                "{% set week = timedelta(7) %}{{ d - weeks }}{{ d - x.week }}{{ d - week.days }}{{ 'd - week' }}".into(),
            ),
            (
                "{% set week = timedelta(7) + timedelta(1) %}{{ d - week }}",
                format!("{{% set week = {f}(timedelta(7), '+', timedelta(1)) %}}{{{{ d - week }}}}"),
            ),
        ];
        for (src, want) in cases {
            assert_eq!(datetime_arithmetic(src), want, "{src}");
        }
        assert!(matches!(
            datetime_arithmetic("{{ timedelta(1) }}"),
            std::borrow::Cow::Borrowed(_)
        ));
        // Line breaks stay where lines are counted.
        let src = "{{ d -\n timedelta(1) }}\nx";
        assert_eq!(datetime_arithmetic(src).matches('\n').count(), 2);
    }

    #[test]
    fn snapshot_blocks_keep_line_numbers() {
        let src = "-- header\n{% snapshot scores %}\n{{ config(unique_key='id') }}\nselect 1\n{% endsnapshot %}\n";
        let blocks = extract_blocks(src, "snapshot").unwrap();
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].name, "scores");
        assert_eq!(blocks[0].line, 2);
        assert_eq!(blocks[0].body.lines().position(|l| l == "select 1"), Some(3));
        assert_eq!(extract_blocks("{% snapshot a %}", "snapshot").unwrap_err().0, 1);
    }

    #[test]
    fn overlong_chains_are_found_and_lists_are_not_chains() {
        let chain = |n: usize, op: &str| format!("select 1\n{{{{ {} }}}}", vec!["'a'"; n + 1].join(op));
        assert_eq!(overlong_chain(&chain(MAX_JINJA_CHAIN, " ~ ")), None);
        assert_eq!(overlong_chain(&chain(MAX_JINJA_CHAIN + 1, " ~ ")).map(|p| p.0), Some(2));
        assert!(overlong_chain(&chain(MAX_JINJA_CHAIN * 2, " | lower | ")).is_some());
        assert!(overlong_chain(&format!("{{% set x = {} %}}", vec!["a"; 5000].join(" and "))).is_some());
        // Arguments and list items are separate expressions; strings are not code.
        let list = format!("{{{{ f([{}]) }}}}", vec!["1 + 1"; 5000].join(", "));
        assert_eq!(overlong_chain(&list), None);
        let text = format!("{{{{ '{}' }}}} {}", "+".repeat(5000), "~".repeat(5000));
        assert_eq!(overlong_chain(&text), None);
    }
}
