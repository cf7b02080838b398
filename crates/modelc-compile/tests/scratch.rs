#![allow(missing_docs, clippy::unwrap_used)]
#[test]
fn scratch() {
    let Ok(p) = std::env::var("SCRATCH") else { return };
    let out = modelc_compile::compile(std::path::Path::new(&p), &modelc_compile::CompileOptions::default());
    for d in out.diagnostics.iter() {
        println!("{d}");
    }
    if let Some(p) = out.project {
        for n in p.nodes.values() {
            println!("== {}\n{}", n.unique_id, n.compiled_code.clone().unwrap_or_default());
        }
    }
}
