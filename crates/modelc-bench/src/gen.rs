//! Generates realistic layered projects: staging views over seeds, then models that
//! each `ref` one to three earlier models with joins, CASE, aggregates and window
//! functions, and YAML with tests. The SQL is portable (DuckDB and PostgreSQL), so the
//! same project measures both engines.

use std::fmt::Write as _;
use std::io;
use std::path::Path;

/// A small deterministic generator (xorshift64*): benchmark projects must be the same every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Shape of a generated project.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Number of models (staging included).
    pub models: usize,
    /// Number of seeds.
    pub seeds: usize,
    /// Rows per seed.
    pub seed_rows: usize,
}

impl Shape {
    /// The default shape for N models: 10 seeds of 10,000 rows, 10 staging models.
    pub fn for_models(models: usize) -> Shape {
        Shape {
            models: models.max(10),
            seeds: 10,
            seed_rows: 10_000,
        }
    }
}

fn write(root: &Path, rel: &str, text: &str) -> io::Result<()> {
    let p = root.join(rel);
    if let Some(dir) = p.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(p, text)
}

/// A plain dbt project (`dbt_project.yml` and `profiles.yml`), so that dbt-duckdb
/// runs it unchanged; `extra` is appended to `dbt_project.yml`.
fn project_files(root: &Path, extra: &str) -> io::Result<()> {
    write(
        root,
        "dbt_project.yml",
        &format!("name: bench\nversion: '1.0'\nprofile: bench\n{extra}"),
    )?;
    write(
        root,
        "profiles.yml",
        "bench:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: target/bench.duckdb\n      threads: 4\n",
    )
}

/// CSV rows of `id,category,amount,ts` (and a quoted `note` with a comma if `note`).
fn seed_csv(rng: &mut Rng, rows: usize, note: bool) -> String {
    let mut csv = String::with_capacity(rows * if note { 48 } else { 32 });
    csv.push_str(if note {
        "id,category,amount,ts,note\n"
    } else {
        "id,category,amount,ts\n"
    });
    for i in 0..rows {
        let _ = write!(
            csv,
            "{i},{},{}.{:02},2024-{:02}-{:02}",
            ["a", "b", "c", "d", "e"][rng.below(5)],
            rng.below(10_000),
            rng.below(100),
            1 + rng.below(12),
            1 + rng.below(28)
        );
        if note {
            let _ = write!(csv, ",\"note {}, {}\"", rng.below(1000), rng.below(1000));
        }
        csv.push('\n');
    }
    csv
}

/// A project with one seed, `big`, of `rows` rows (ids, categories, amounts, dates, text).
pub fn big_seed(root: &Path, rows: usize) -> io::Result<()> {
    project_files(root, "")?;
    write(
        root,
        "seeds/big.csv",
        &seed_csv(&mut Rng(0x2545_f491_4f6c_dd1d), rows, true),
    )
}

/// Writes the project into `root`. Returns the number of tests declared.
pub fn generate(root: &Path, shape: Shape) -> io::Result<usize> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    project_files(root, "models:\n  bench:\n    staging:\n      +materialized: view\n")?;
    for s in 0..shape.seeds {
        write(
            root,
            &format!("seeds/seed_{s}.csv"),
            &seed_csv(&mut rng, shape.seed_rows, false),
        )?;
    }
    write(
        root,
        "macros/util.sql",
        "{% macro bucket(col) -%}\n    case when {{ col }} < 1000 then 'low' when {{ col }} < 5000 then 'mid' else 'high' end\n{%- endmacro %}\n\n\
         {#- The 8-byte float: `double precision` on PostgreSQL, `double` on DuckDB and Spark. -#}\n\
         {% macro double() %}{{ return(adapter.dispatch('double')()) }}{% endmacro %}\n\
         {% macro default__double() %}double{% endmacro %}\n\
         {% macro postgres__double() %}double precision{% endmacro %}\n",
    )?;
    let staging = shape.seeds.min(shape.models);
    let mut yml = String::from("version: 2\nmodels:\n");
    let mut tests = 0;
    for m in 0..shape.models {
        let (path, sql) = if m < staging {
            (
                format!("models/staging/stg_{m}.sql"),
                format!("select id, lower(category) as category, cast(amount as {{{{ double() }}}}) as amount, cast(ts as date) as ts\nfrom {{{{ ref('seed_{m}') }}}}\n"),
            )
        } else {
            let layer = m / 100;
            let mat = if m % 3 == 0 { "table" } else { "view" };
            let parent = |rng: &mut Rng| model_name(rng.below(m), staging);
            let a = parent(&mut rng);
            let sql = match rng.below(4) {
                0 => {
                    let b = parent(&mut rng);
                    format!(
                        "{{{{ config(materialized='{mat}') }}}}\nwith a as (select * from {{{{ ref('{a}') }}}}),\nb as (select * from {{{{ ref('{b}') }}}})\nselect a.id,\n    case when a.amount > coalesce(b.amount, 0) then a.category else coalesce(b.category, a.category) end as category,\n    a.amount + coalesce(b.amount, 0) / 2 as amount,\n    a.ts\nfrom a left join b on a.id = b.id\n"
                    )
                }
                1 => format!(
                    "{{{{ config(materialized='{mat}') }}}}\nselect id, category,\n    avg(amount) over (partition by category order by ts, id rows between 3 preceding and current row) as amount,\n    ts\nfrom {{{{ ref('{a}') }}}}\n"
                ),
                2 => format!(
                    "{{{{ config(materialized='{mat}') }}}}\nselect id, min(category) as category, sum(amount) as amount, max(ts) as ts\nfrom {{{{ ref('{a}') }}}}\ngroup by id\n"
                ),
                _ => {
                    let b = parent(&mut rng);
                    let c = parent(&mut rng);
                    format!(
                        "{{{{ config(materialized='{mat}') }}}}\nselect x.id, {{{{ bucket('x.amount') }}}} || '_' || x.category as category, x.amount, x.ts\nfrom {{{{ ref('{a}') }}}} x\nwhere x.id in (select id from {{{{ ref('{b}') }}}}) or x.id in (select id from {{{{ ref('{c}') }}}} where amount > 100)\n"
                    )
                }
            };
            (format!("models/layer_{layer}/{}.sql", model_name(m, staging)), sql)
        };
        write(root, &path, &sql)?;
        let name = model_name(m, staging);
        let _ = write!(yml, "  - name: {name}\n    description: Generated model {m}.\n    columns:\n      - name: id\n        data_tests: [not_null]\n      - name: category\n        data_tests: [not_null]\n");
        tests += 2;
        if m % 5 == 0 {
            let _ = writeln!(yml, "      - name: amount\n        data_tests:\n          - not_null:\n              config:\n                where: \"ts > date '2024-06-01'\"");
            tests += 1;
        }
    }
    write(root, "models/schema.yml", &yml)?;
    Ok(tests)
}

/// The name of model `index`: `stg_<i>` for staging models, `m_<i>` after them.
fn model_name(index: usize, staging: usize) -> String {
    if index < staging {
        format!("stg_{index}")
    } else {
        format!("m_{}", index - staging)
    }
}
