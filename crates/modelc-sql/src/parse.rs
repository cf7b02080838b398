//! Parsing one model's SQL with sqlparser's DuckDB dialect, turning parser
//! failures into [`SqlError`] values (never panics), and
//! [`strip_trailing_semicolon`] for wrapping model SQL in other statements.

use std::fmt;

use sqlparser::ast::{Spanned, Statement};
use sqlparser::dialect::DuckDbDialect;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

/// Why a model's SQL could not be analyzed. Callers usually report it as a
/// warning: the model still compiles, it just gets no dependency or lineage
/// information from its SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlError {
    /// What went wrong, without the position.
    pub message: String,
    /// 1-based line in the SQL string, or 0 if unknown.
    pub line: u64,
    /// 1-based column (in characters) in the SQL string, or 0 if unknown.
    pub column: u64,
}

impl fmt::Display for SqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if self.line > 0 {
            write!(f, " at line {}, column {}", self.line, self.column)?;
        }
        Ok(())
    }
}

impl std::error::Error for SqlError {}

/// One parsed SQL statement (the model's query). Owns the AST; analyze it
/// with [`ParsedQuery::relations`] and [`ParsedQuery::lineage`].
#[derive(Debug, Clone)]
pub struct ParsedQuery {
    pub(crate) statement: Statement,
}

impl ParsedQuery {
    /// The parsed statement, for callers that need more than this crate offers.
    pub fn statement(&self) -> &Statement {
        &self.statement
    }

    /// Whether the statement is a query (`SELECT`, `WITH`, `VALUES`, set
    /// operations, DuckDB `FROM`-first). Only queries have output columns.
    pub fn is_query(&self) -> bool {
        matches!(self.statement, Statement::Query(_))
    }
}

/// Parses `sql` (after Jinja rendering) with sqlparser's DuckDB dialect.
///
/// Exactly one statement is expected; a trailing semicolon is fine. Empty
/// input (or only comments), more than one statement, and anything sqlparser
/// cannot parse (including DuckDB syntax it does not know) are errors.
/// A statement that is not a query parses fine but has no output columns.
pub fn parse(sql: &str) -> Result<ParsedQuery, SqlError> {
    let dialect = DuckDbDialect {};
    let tokens = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .map_err(|e| parser_error(sql, ParserError::TokenizerError(e.to_string())))?;
    check_chains(&tokens)?;
    let mut statements = Parser::new(&dialect)
        .with_tokens_with_locations(tokens)
        .parse_statements()
        .map_err(|e| parser_error(sql, e))?;
    if statements.len() > 1 {
        let start = statements[1].span().start;
        return Err(SqlError {
            message: format!("expected exactly one SQL statement, found {}", statements.len()),
            line: start.line,
            column: start.column,
        });
    }
    match statements.pop() {
        Some(statement) => Ok(ParsedQuery { statement }),
        None => Err(SqlError {
            message: "no SQL statement found".to_owned(),
            line: 0,
            column: 0,
        }),
    }
}

/// The longest chain of operators (`a + b + ...`, `x or y or ...`) the analysis
/// takes. sqlparser builds such a chain as a tree as deep as it is long, without
/// counting it against its recursion limit, and walking or even dropping a tree some
/// tens of thousands deep overflows a thread's stack (a generated model of 100,000
/// `union all`s crashed modelc). DuckDB itself stops at an expression depth of 1000.
pub const MAX_CHAIN: usize = 5_000;

/// The longest chain of set operations (`select ... union all select ...`) the
/// analysis takes: their column lineage recurses deeper per link than expressions.
pub const MAX_SET_OPERATIONS: usize = 1_000;

/// Fails when one parenthesis level of the tokens chains more than [`MAX_CHAIN`]
/// operators (counted from the last comma, `when`, `then`, ..., which start a new
/// expression) or more than [`MAX_SET_OPERATIONS`] set operations.
fn check_chains(tokens: &[TokenWithSpan]) -> Result<(), SqlError> {
    use sqlparser::keywords::Keyword;
    // (operators since the expression began, set operations) of each open level.
    let mut levels: Vec<(usize, usize)> = vec![(0, 0)];
    for t in tokens {
        let Some(top) = levels.last_mut() else { break };
        let link = match &t.token {
            Token::LParen | Token::LBracket => {
                levels.push((0, 0));
                continue;
            }
            Token::RParen | Token::RBracket => {
                if levels.len() > 1 {
                    levels.pop();
                }
                continue;
            }
            Token::Comma => {
                top.0 = 0;
                continue;
            }
            Token::Word(w) => match w.keyword {
                Keyword::UNION | Keyword::INTERSECT | Keyword::EXCEPT => {
                    top.1 += 1;
                    if top.1 > MAX_SET_OPERATIONS {
                        return Err(SqlError {
                            message: format!(
                                "more than {MAX_SET_OPERATIONS} set operations (union, intersect, except) in a row, too many to analyze"
                            ),
                            line: t.span.start.line,
                            column: t.span.start.column,
                        });
                    }
                    continue;
                }
                Keyword::AND | Keyword::OR => {
                    top.0 += 1;
                    top.0
                }
                Keyword::WHEN
                | Keyword::THEN
                | Keyword::ELSE
                | Keyword::SELECT
                | Keyword::FROM
                | Keyword::WHERE
                | Keyword::HAVING
                | Keyword::ON
                | Keyword::BY => {
                    top.0 = 0;
                    continue;
                }
                _ => continue,
            },
            Token::Whitespace(_)
            | Token::Period
            | Token::DoubleColon
            | Token::Colon
            | Token::SemiColon
            | Token::EOF
            | Token::Number(..)
            | Token::Char(_)
            | Token::Placeholder(_)
            | Token::SingleQuotedString(_)
            | Token::DoubleQuotedString(_)
            | Token::EscapedStringLiteral(_)
            | Token::DollarQuotedString(_)
            | Token::HexStringLiteral(_)
            | Token::NationalStringLiteral(_) => continue,
            _ => {
                top.0 += 1;
                top.0
            }
        };
        if link > MAX_CHAIN {
            return Err(SqlError {
                message: format!("more than {MAX_CHAIN} operators or set operations in a row, too many to analyze"),
                line: t.span.start.line,
                column: t.span.start.column,
            });
        }
    }
    Ok(())
}

/// Converts a sqlparser error, moving its `at Line: L, Column: C` suffix into
/// the position fields. Errors at end of input carry no position in
/// sqlparser; they get the position just past the last character.
fn parser_error(sql: &str, error: ParserError) -> SqlError {
    let text = match error {
        ParserError::TokenizerError(s) | ParserError::ParserError(s) => s,
        ParserError::RecursionLimitExceeded => {
            return SqlError {
                message: "SQL is nested too deeply to analyze".to_owned(),
                line: 0,
                column: 0,
            }
        }
    };
    if let Some((message, (line, column))) = text
        .rfind(" at Line: ")
        .and_then(|i| Some((&text[..i], parse_location(&text[i + 10..])?)))
    {
        return SqlError {
            message: message.to_owned(),
            line,
            column,
        };
    }
    let (line, column) = if text.ends_with("found: EOF") {
        end_position(sql)
    } else {
        (0, 0)
    };
    SqlError {
        message: text,
        line,
        column,
    }
}

/// Parses `L, Column: C`.
fn parse_location(s: &str) -> Option<(u64, u64)> {
    let (line, column) = s.split_once(", Column: ")?;
    Some((line.parse().ok()?, column.trim_end().parse().ok()?))
}

/// The 1-based line and column just past the end of `sql`.
fn end_position(sql: &str) -> (u64, u64) {
    let line = sql.bytes().filter(|&b| b == b'\n').count() + 1;
    let last = sql.rfind('\n').map_or(sql, |i| &sql[i + 1..]);
    (line as u64, last.chars().count() as u64 + 1)
}

/// Returns `sql` cut just after its last token that is not a semicolon, so
/// that it can be wrapped, e.g. in `CREATE TABLE t AS (...)`.
///
/// Trailing semicolons, whitespace and comments (`-- ...` and `/* ... */`)
/// are dropped; comments and semicolons inside string literals (`'...'`,
/// `$$...$$`) and quoted identifiers (`"..."`) are respected. Only the
/// tail changes: the result is always a prefix of `sql`.
pub fn strip_trailing_semicolon(sql: &str) -> &str {
    let bytes = sql.as_bytes();
    // Byte offset just past the last significant (non-`;`) token seen so far.
    let mut end = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = find_from(bytes, i + 2, b"\n").map_or(bytes.len(), |j| j + 1);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = find_from(bytes, i + 2, b"*/").map_or(bytes.len(), |j| j + 2);
            }
            q @ (b'\'' | b'"') => {
                // A doubled quote inside is an escaped quote: scanning on
                // from the closing quote handles it as a new quoted run.
                i = find_from(bytes, i + 1, &[q]).map_or(bytes.len(), |j| j + 1);
                end = i;
            }
            b'$' if bytes.get(i + 1) == Some(&b'$') => {
                i = find_from(bytes, i + 2, b"$$").map_or(bytes.len(), |j| j + 2);
                end = i;
            }
            b';' => i += 1,
            b if b.is_ascii_whitespace() => i += 1,
            _ => {
                i += 1;
                end = i;
            }
        }
    }
    // `end` is always just past an ASCII byte or at the end of the input
    // (multi-byte characters end in a byte matched by the `_` arm, and such
    // a byte is the last of its character), so this slice is in bounds and
    // on a character boundary; `get` keeps that from ever panicking.
    sql.get(..end).unwrap_or(sql)
}

/// Position of the first occurrence of `needle` in `bytes` at or after `from`.
fn find_from(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|j| j + from)
}
