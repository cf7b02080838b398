//! Renders diagnostics with source snippets (miette), errors first.

use std::fmt;
use std::io::IsTerminal;
use std::path::Path;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};
use modelc_core::{Diagnostic, Diagnostics, Severity};

#[derive(Debug)]
struct Report<'a> {
    d: &'a Diagnostic,
    source: Option<NamedSource<String>>,
    span: Option<SourceSpan>,
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.d.message)
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.d.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.d.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.span?;
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            Some("here".into()),
            span,
        ))))
    }
}

/// Byte offset of a 1-based line and column.
fn offset(text: &str, line: usize, column: usize) -> Option<usize> {
    let mut start = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let col = column.saturating_sub(1).min(l.trim_end_matches('\n').len());
            return Some(start + col);
        }
        start += l.len();
    }
    // Parsers report end-of-file errors on the line after the last one.
    (line == text.split_inclusive('\n').count() + 1).then_some(text.len())
}

/// Renders one diagnostic as text: a header line with file:line:col, then the snippet.
pub fn render(d: &Diagnostic, root: &Path, color: bool) -> String {
    let mut source = None;
    let mut span = None;
    if let Some(file) = &d.file {
        if d.line > 0 {
            if let Ok(mut text) = std::fs::read_to_string(root.join(file)) {
                // Columns count from after a byte order mark, as the loader reads the file.
                modelc_project::strip_bom(&mut text);
                if let Some(off) = offset(&text, d.line, d.column) {
                    span = Some(SourceSpan::from((off, 0)));
                    source = Some(NamedSource::new(file.display().to_string(), text));
                }
            }
        }
    }
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_context_lines(1);
    let mut out = String::new();
    let report = Report { d, source, span };
    let _ = handler.render_report(&mut out, &report);
    // The header names the location even where no snippet could be shown.
    let location = match (&d.file, d.line) {
        (Some(f), 0) => format!(" --> {}\n", f.display()),
        (Some(f), l) => format!(" --> {}:{}:{}\n", f.display(), l, d.column.max(1)),
        (None, _) => String::new(),
    };
    format!("{location}{out}")
}

/// Prints all diagnostics to stderr, with a count line when there are errors.
pub fn print_all(diags: &Diagnostics, root: &Path) {
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    for d in diags.iter() {
        eprint!("{}", render(d, root, color));
    }
    let errors = diags.error_count();
    if errors > 0 {
        eprintln!(
            "{errors} error{} found; nothing was run.",
            if errors == 1 { "" } else { "s" }
        );
    }
}
