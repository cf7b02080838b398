//! `modelc run-operation`: calls a macro with keyword arguments, rendered with
//! `execute` true against the database, so its `run_query` and `statement` calls
//! run (DDL and DML included), as `dbt run-operation`.

use modelc_exec::LateRender;

use crate::cli::RunOperationArgs;
use crate::{compile_with_analysis, invalid, late, FAILED};

/// The analysis that holds the macro call.
const OPERATION: &str = "run_operation";

pub fn cmd_run_operation(args: &RunOperationArgs) -> Result<(), u8> {
    let valid_name = args
        .macro_name
        .split('.')
        .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    if !valid_name || args.macro_name.split('.').count() > 2 {
        return Err(invalid(format!(
            "'{}' is not a macro name (name, or package.name)",
            args.macro_name
        )));
    }
    let kwargs = match args.args.as_deref() {
        None => serde_json::Value::Object(Default::default()),
        Some(text) => match serde_yaml::from_str::<serde_yaml::Value>(text) {
            Ok(v) if v.is_mapping() => serde_json::Value::Object(modelc_project::yaml::to_json_map(&v)),
            Ok(_) => {
                return Err(invalid(format!(
                    "--args must be a YAML mapping like '{{key: value}}', got '{text}'"
                )))
            }
            Err(e) => return Err(invalid(format!("--args is not valid YAML: {e}"))),
        },
    };
    let json = kwargs.to_string().replace('\\', "\\\\").replace('\'', "\\'");
    // Guarded by `execute`: compiling the call must not run it without the database
    // (dbt never parses an operation); it runs below, with the database.
    let call = format!(
        "{{% if execute %}}{{{{ {}(**fromjson('{json}')) }}}}{{% endif %}}",
        args.macro_name
    );
    let project = compile_with_analysis(&args.common, OPERATION, &call)?;
    let id = format!("analysis.{}.{OPERATION}", project.name);
    let node = project
        .nodes
        .get(&id)
        .ok_or_else(|| invalid("the macro call was not compiled"))?;
    if !node.late_render {
        // It asked nothing of the database: compiling it ran it.
        return Ok(());
    }
    let adapter = modelc_exec::open(&project.db).map_err(invalid)?;
    let late = late::RunTimeRender {
        project: &project,
        adapter: adapter.as_ref(),
        deferred: None,
    };
    match late.render(node) {
        Ok(_) => Ok(()),
        Err(e) => {
            eprintln!("Encountered an error while running operation {}: {e}", args.macro_name);
            Err(FAILED)
        }
    }
}
