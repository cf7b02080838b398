//! Data-driven tests of the public API: every SQL snippet goes through
//! [`check`], which renders the relations read and the lineage of each output
//! column as compact text and pins it with an insta file snapshot (under
//! `src/snapshots/`, the SQL is in each snapshot's description).
//!
//! Rendering, one line per output column:
//! `name <- rel.col, rel2.col2 [transform] ! unresolved reason`.

use std::collections::HashMap;
use std::fmt::Write;

use crate::{parse, strip_trailing_semicolon, Catalog, RelationName, MAX_CHAIN, MAX_SET_OPERATIONS};

/// The test catalog. `mystery` and `mystery2` are deliberately unknown.
fn catalog() -> HashMap<String, Vec<String>> {
    let tables: &[(&str, &[&str])] = &[
        ("orders", &["id", "customer_id", "amount", "status", "created_at"]),
        ("customers", &["id", "name", "email"]),
        ("payments", &["id", "order_id", "amount", "method"]),
        ("raw.events", &["event_id", "user_id", "ts"]),
    ];
    tables
        .iter()
        .map(|(t, cols)| (t.to_string(), cols.iter().map(|c| c.to_string()).collect()))
        .collect()
}

fn render(sql: &str, catalog: &dyn Catalog) -> String {
    let query = match parse(sql) {
        Ok(q) => q,
        Err(e) => return format!("error: {e}\n"),
    };
    let mut out = String::from("relations:");
    for r in query.relations() {
        let _ = write!(out, " {} ({}:{})", r.name, r.line, r.column);
    }
    out.push('\n');
    for col in query.lineage(catalog) {
        let _ = write!(out, "{} <- ", col.name);
        if col.sources.is_empty() {
            out.push_str("(none)");
        }
        for (i, s) in col.sources.iter().enumerate() {
            let sep = if i > 0 { ", " } else { "" };
            let _ = write!(out, "{sep}{}.{}", s.relation, s.column);
        }
        let _ = write!(out, " [{}]", col.transform);
        if let Some(reason) = &col.unresolved {
            let _ = write!(out, " ! {reason}");
        }
        out.push('\n');
    }
    out
}

/// Renders `sql` analyzed against `catalog` and compares it with snapshot `name`.
fn check(sql: &str, catalog: &dyn Catalog, name: &str) {
    let actual = render(sql, catalog);
    insta::with_settings!({
        description => sql.trim(),
        omit_expression => true,
        prepend_module_to_snapshot => false,
    }, {
        insta::assert_snapshot!(name, actual);
    });
}

#[test]
fn simple_select() {
    check(
        "select id, amount as total, o.status from orders o",
        &catalog(),
        "simple_select",
    );
}

#[test]
fn join_inner_left_cross_with_aliases() {
    check(
        "select o.id as order_id, c.name as customer, p.method
         from orders as o
         join customers c on o.customer_id = c.id
         left join payments p on p.order_id = o.id
         cross join mystery",
        &catalog(),
        "join_inner_left_cross_with_aliases",
    );
}

#[test]
fn join_using_maps_to_both_sides() {
    check(
        "select id, o.amount, * from orders o join payments p using (id)",
        &catalog(),
        "join_using_maps_to_both_sides",
    );
}

#[test]
fn natural_join() {
    check("select * from orders natural join payments", &catalog(), "natural_join");
}

#[test]
fn cte_chain() {
    check(
        "with a as (select id, amount from orders),
              b as (select id, amount * 2 as doubled from a)
         select b.id, doubled from b",
        &catalog(),
        "cte_chain",
    );
}

#[test]
fn cte_shadowing_real_table() {
    check(
        "with orders as (select id, amount + 1 as amount from orders)
         select amount, id from orders",
        &catalog(),
        "cte_shadowing_real_table",
    );
}

#[test]
fn cte_column_list_and_derived_alias_columns() {
    check(
        "with c(a, b) as (select id, amount from orders)
         select c.a, t.y, o.x
         from c
         join (select id, status from orders) as t(x, y) on t.x = c.a
         join orders as o(x) on o.x = c.a",
        &catalog(),
        "cte_column_list_and_derived_alias_columns",
    );
}

#[test]
fn recursive_cte() {
    check(
        "with recursive r(n, total) as (
             select 1, amount from orders
             union all
             select n + 1, total from r where n < 10
         )
         select n, total from r",
        &catalog(),
        "recursive_cte",
    );
}

#[test]
fn subquery_in_from() {
    check(
        "select x.customer_id, total
         from (select customer_id, sum(amount) as total from orders group by 1) as x",
        &catalog(),
        "subquery_in_from",
    );
}

#[test]
fn select_star_from_catalog() {
    check("select * from orders", &catalog(), "select_star_from_catalog");
}

#[test]
fn qualified_star() {
    check(
        "select c.*, o.amount from orders o join customers c on o.customer_id = c.id",
        &catalog(),
        "qualified_star",
    );
}

#[test]
fn star_over_cte_and_subquery() {
    check(
        "with s as (select id, status from orders)
         select * from s, (select 1 as one, amount from payments) t",
        &catalog(),
        "star_over_cte_and_subquery",
    );
}

#[test]
fn star_over_unknown_relations() {
    check(
        "select * from mystery m join mystery2 on true",
        &catalog(),
        "star_over_unknown_relations",
    );
}

#[test]
fn star_over_known_and_unknown() {
    check(
        "select * from orders join mystery m on m.order_id = orders.id",
        &catalog(),
        "star_over_known_and_unknown",
    );
}

#[test]
fn column_through_star_of_unknown() {
    check(
        "with m as (select * from mystery)
         select a, m.b + 1 as c from m",
        &catalog(),
        "column_through_star_of_unknown",
    );
}

#[test]
fn star_exclude_replace() {
    check(
        "select * exclude (status, created_at) replace (amount * 100 as amount)
         from orders",
        &catalog(),
        "star_exclude_replace",
    );
}

#[test]
fn qualified_star_exclude() {
    check(
        "select e.* exclude (ts) from raw.events e",
        &catalog(),
        "qualified_star_exclude",
    );
}

#[test]
fn aggregates() {
    check(
        "select status, count(*) as n, sum(amount) as total,
                count(distinct customer_id), count(*) filter (where amount > 10) as big
         from orders group by status",
        &catalog(),
        "aggregates",
    );
}

#[test]
fn window_functions() {
    check(
        "select id,
                row_number() over (partition by customer_id order by created_at) as rn,
                sum(amount) over w as running,
                lag(amount) over (order by id) - amount as delta
         from orders
         window w as (partition by status order by id)",
        &catalog(),
        "window_functions",
    );
}

#[test]
fn case_expressions() {
    check(
        "select case when status = 'paid' then amount else 0 end as paid_amount,
                case status when 'x' then 1 end
         from orders",
        &catalog(),
        "case_expressions",
    );
}

#[test]
fn casts() {
    check(
        "select id::varchar as id_text, cast(amount as decimal(10, 2)),
                try_cast(status as int) as s
         from orders",
        &catalog(),
        "casts",
    );
}

#[test]
fn union_all() {
    check(
        "select id, amount, 'order' as kind from orders
         union all
         select order_id, amount, method from payments",
        &catalog(),
        "union_all",
    );
}

#[test]
fn union_intersect_except() {
    check(
        "select id from orders
         union select order_id from payments
         intersect select id from customers
         except select user_id from raw.events",
        &catalog(),
        "union_intersect_except",
    );
}

#[test]
fn union_by_name() {
    check(
        "select id, amount from orders
         union all by name
         select amount, method as id, 1 as extra from payments",
        &catalog(),
        "union_by_name",
    );
}

#[test]
fn union_with_unknown_star() {
    check(
        "select id from orders union all select * from mystery",
        &catalog(),
        "union_with_unknown_star",
    );
}

#[test]
fn literals() {
    check(
        "select 1 as one, 'x' as s, null as n, current_date as d, now(), 1 + 2",
        &catalog(),
        "literals",
    );
}

#[test]
fn scalar_subquery_in_select_list() {
    check(
        "select id,
                (select max(p.amount) from payments p where p.order_id = o.id) as max_payment,
                amount in (select amount from payments) as seen,
                exists (select 1 from customers c where c.id = o.customer_id) as has_customer
         from orders o",
        &catalog(),
        "scalar_subquery_in_select_list",
    );
}

#[test]
fn group_by_all_order_by_all() {
    check(
        "select status, sum(amount) from orders group by all order by all",
        &catalog(),
        "group_by_all_order_by_all",
    );
}

#[test]
fn filter_columns_are_not_sources() {
    check(
        "select o.status
         from orders o join customers c on c.id = o.customer_id
         where c.email like '%@x' and o.amount > 0
         group by o.status
         having count(*) > 1
         qualify row_number() over (order by o.status) = 1",
        &catalog(),
        "filter_columns_are_not_sources",
    );
}

#[test]
fn unqualified_resolution() {
    check(
        "select name, amount, id, nope
         from orders o join customers c on c.id = o.customer_id",
        &catalog(),
        "unqualified_resolution",
    );
}

#[test]
fn unqualified_with_unknown_relations() {
    check(
        "select a, amount from mystery m join orders o on true",
        &catalog(),
        "unqualified_with_unknown_relation",
    );
    check(
        "select a from mystery join mystery2 on true",
        &catalog(),
        "unqualified_with_two_unknown_relations",
    );
}

#[test]
fn lateral_column_alias() {
    check(
        "select amount * 2 as doubled, doubled + 1 as plus_one from orders",
        &catalog(),
        "lateral_column_alias",
    );
}

#[test]
fn lateral_subquery() {
    check(
        "select o.id, x.total
         from orders o,
         lateral (select sum(p.amount) as total from payments p where p.order_id = o.id) x",
        &catalog(),
        "lateral_subquery",
    );
}

#[test]
fn table_functions() {
    check(
        "select r.*, i, u.x, f.a
         from range(10) t(i)
         cross join read_csv('data/x.csv') r
         cross join orders o
         cross join unnest([o.amount, o.id]) as u(x)
         cross join 'files/f.parquet' f",
        &catalog(),
        "table_functions",
    );
}

#[test]
fn duckdb_columns_expression() {
    check(
        "select columns('amount|id'), min(columns(*)) from orders",
        &catalog(),
        "duckdb_columns_expression",
    );
}

#[test]
fn struct_fields_and_lambdas() {
    check(
        "select list_transform(tags, x -> x || ext) as t, info.city, m.info.zip, tags[1]
         from mystery m",
        &catalog(),
        "struct_fields_and_lambdas",
    );
}

#[test]
fn values_lists() {
    check(
        "select * from (values (1, 'a'), (2, 'b')) as v(n, s)",
        &catalog(),
        "values_in_from",
    );
    check("values (1, 2)", &catalog(), "values_top_level");
}

#[test]
fn from_first_syntax() {
    check("from orders select id", &catalog(), "from_first_select");
    check("from customers", &catalog(), "from_first_no_select");
}

#[test]
fn schema_qualified_relations() {
    check(
        "select e.user_id, events.ts, raw.events.event_id from raw.events e, raw.events",
        &catalog(),
        "schema_qualified_relations",
    );
}

#[test]
fn parenthesized_and_distinct() {
    check(
        "select distinct (amount), ((id)) as i from orders",
        &catalog(),
        "parenthesized_and_distinct",
    );
}

#[test]
fn relations_everywhere() {
    check(
        "with recent as (select * from orders where created_at > now() - interval 7 day),
              dup as (select * from recent)
         select (select count(*) from payments) as n, r.id
         from recent r
         join db.main.customers c on c.id = r.customer_id
         where r.customer_id in (select id from Customers2)
           and exists (select 1 from refunds f where f.order_id = r.id)
           and r.id not in (select order_id from payments)
         union all
         select 0, id from archive.orders
         cross join generate_series(1, 3)",
        &(),
        "relations_everywhere",
    );
}

#[test]
fn relations_dedupe_case_insensitively() {
    check(
        "select * from Orders join orders using (id) join main.orders using (id)",
        &(),
        "relations_dedupe_case_insensitively",
    );
}

#[test]
fn non_query_statements() {
    check(
        "create table t as select * from orders",
        &catalog(),
        "non_query_create_table_as",
    );
    check(
        "insert into target select id from orders",
        &catalog(),
        "non_query_insert",
    );
}

#[test]
fn comments_and_trailing_semicolon() {
    check(
        "-- header\nselect /* inline */ id -- trailing\nfrom orders;\n-- after\n",
        &catalog(),
        "comments_and_trailing_semicolon",
    );
}

#[test]
fn syntax_error_has_position() {
    let err = parse("select id\nfrom orders\nwhere id in (1, 2 3)").unwrap_err();
    assert_eq!((err.line, err.column), (3, 19), "{err}");
    assert!(err.message.starts_with("Expected"), "{err}");
    assert!(err.to_string().ends_with(" at line 3, column 19"), "{err}");

    let err = parse("select 'abc\nfrom t").unwrap_err();
    assert_eq!((err.line, err.column), (1, 8), "{err}");

    // sqlparser reports end-of-input errors without a position.
    let err = parse("select id\nfrom orders\nwhere").unwrap_err();
    assert_eq!((err.line, err.column), (3, 6), "{err}");
}

#[test]
fn unsupported_duckdb_syntax_is_an_error() {
    for sql in [
        "pivot orders on status using sum(amount)",
        "select #1 from orders",
        "select * from a asof join b using (id, ts)",
        "select {{ ref('x') }}",
    ] {
        assert!(parse(sql).is_err(), "{sql}");
    }
}

#[test]
fn empty_input_is_an_error() {
    for sql in ["", "   \n", "-- just a comment\n", "/* x */ ;"] {
        let err = parse(sql).unwrap_err();
        assert_eq!(err.message, "no SQL statement found", "{sql:?}");
    }
}

#[test]
fn several_statements_are_an_error() {
    let err = parse("select 1;\nselect 2;").unwrap_err();
    assert_eq!(
        (err.message.as_str(), err.line, err.column),
        ("expected exactly one SQL statement, found 2", 2, 1)
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let sql = format!("select {}1{}", "(".repeat(500), ")".repeat(500));
    assert!(parse(&sql).is_err());
    let sql = format!(
        "select * from {}orders{}",
        "(select * from ".repeat(300),
        ")".repeat(300)
    );
    assert!(parse(&sql).is_err());
}

#[test]
fn strip_trailing_semicolons() {
    let cases = [
        ("select 1", "select 1"),
        ("select 1;", "select 1"),
        ("select 1 ;  \n", "select 1"),
        ("select 1;;\n;", "select 1"),
        ("select 1; -- done\n", "select 1"),
        ("select 1 -- no semicolon", "select 1"),
        ("select 1 /* a; */ ; /* b */", "select 1"),
        ("select ';' as s;", "select ';' as s"),
        ("select '--' as s -- c", "select '--' as s"),
        ("select \"a;--\" from t;", "select \"a;--\" from t"),
        ("select 'it''s';", "select 'it''s'"),
        ("select $$ x; $$;", "select $$ x; $$"),
        ("select 'é'; -- ü", "select 'é'"),
        ("select ü;", "select ü"),
        ("", ""),
        (";", ""),
        ("select 'unterminated;", "select 'unterminated;"),
    ];
    for (input, expected) in cases {
        assert_eq!(strip_trailing_semicolon(input), expected, "{input:?}");
    }
}

#[test]
fn hashmap_catalog_lookup() {
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    map.insert("raw.orders".into(), vec!["a".into()]);
    map.insert("orders".into(), vec!["b".into()]);
    let name = |parts: &[&str]| RelationName::new(parts.iter().map(|p| p.to_string()).collect());
    let cols = |parts: &[&str]| map.columns(&name(parts));
    assert_eq!(cols(&["RAW", "Orders"]), Some(vec!["a".to_string()]));
    assert_eq!(cols(&["db", "raw", "orders"]), Some(vec!["a".to_string()]));
    assert_eq!(cols(&["staging", "orders"]), Some(vec!["b".to_string()]));
    assert_eq!(cols(&["ORDERS"]), Some(vec!["b".to_string()]));
    assert_eq!(cols(&["customers"]), None);
}

#[test]
fn relation_positions_are_one_based() {
    let q = parse("select 1\nfrom   main.orders o").unwrap();
    let rels = q.relations();
    assert_eq!(rels.len(), 1);
    assert_eq!((rels[0].line, rels[0].column), (2, 8));
    assert_eq!(rels[0].name.parts, ["main", "orders"]);
}

#[test]
fn deepest_parsable_nesting_does_not_overflow() {
    // Whatever nesting sqlparser accepts (it stops at its recursion limit),
    // analysis must handle on a test thread's default stack.
    let catalog = catalog();
    let shapes: [fn(usize) -> String; 4] = [
        |n| format!("select * from {}orders{}", "(select * from ".repeat(n), ") t".repeat(n)),
        |n| format!("select {}amount{} as x from orders", "(".repeat(n), ")".repeat(n)),
        |n| format!("select {}1{} as x from orders", "(select ".repeat(n), ")".repeat(n)),
        |n| {
            format!(
                "{}select * from orders{}",
                "with c as (".repeat(n),
                ") select * from c".repeat(n)
            )
        },
    ];
    for shape in shapes {
        let deepest = (1..200).take_while(|&n| parse(&shape(n)).is_ok()).last();
        let n = deepest.unwrap_or(0);
        assert!(n >= 10, "{n}");
        let query = parse(&shape(n)).unwrap();
        assert!(!query.relations().is_empty());
        assert!(!query.lineage(&catalog).is_empty());
    }
}

#[test]
fn long_operator_and_set_operation_chains_are_refused_not_overflowed() {
    // sqlparser builds `a + b + ...` and `... union all ...` as trees as deep as the
    // chain is long; past the limits the parse is refused (a warning for the model),
    // below them the tree is analyzed and dropped on a test thread's stack.
    let catalog = catalog();
    let unions: fn(usize) -> String = |n| {
        format!(
            "select amount from orders{}",
            " union all select amount from orders".repeat(n)
        )
    };
    let sums: fn(usize) -> String = |n| format!("select amount{} as x from orders", " + 1".repeat(n));
    let ors: fn(usize) -> String =
        |n| format!("select amount from orders where {}", vec!["amount"; n + 1].join(" or "));
    for (shape, limit) in [(unions, MAX_SET_OPERATIONS), (sums, MAX_CHAIN), (ors, MAX_CHAIN)] {
        let q = parse(&shape(limit)).unwrap();
        assert!(!q.relations().is_empty());
        assert!(!q.lineage(&catalog).is_empty());
        drop(q);
        let err = parse(&shape(limit * 20)).unwrap_err();
        assert!(err.message.contains("too many to analyze"), "{err}");
        assert_eq!(err.line, 1);
    }
    // Long lists are not chains: a wide select and a long CASE parse.
    let wide: Vec<String> = (0..MAX_CHAIN * 2).map(|i| format!("amount + {i} as c{i}")).collect();
    assert!(parse(&format!("select {} from orders", wide.join(", "))).is_ok());
    let case: String = (0..MAX_CHAIN * 2)
        .map(|i| format!(" when amount = {i} then {i}"))
        .collect();
    assert!(parse(&format!("select case{case} end as c from orders")).is_ok());
}

/// Column references that name no column, in every clause, and the references
/// that must not be reported: found ones, aliases, outer and lambda columns, and
/// relations whose columns are unknown or only partly known.
#[test]
fn missing_columns_are_found_in_every_clause_and_only_there() {
    /// Declared columns only: `raw.events` may have more.
    struct Partial(HashMap<String, Vec<String>>);
    impl Catalog for Partial {
        fn columns(&self, relation: &RelationName) -> Option<Vec<String>> {
            self.0.columns(relation)
        }
        fn complete(&self, relation: &RelationName) -> bool {
            relation.table() != "events"
        }
    }
    let catalog = Partial(catalog());
    let cases: &[(&str, &[&str])] = &[
        ("select id, amount from orders", &[]),
        ("select id, amout from orders", &["amout@1:12 in orders"]),
        ("select o.amout from orders o", &["amout@1:10 in o (orders)"]),
        ("select id from orders where statuss = 'x'", &["statuss@1:29 in orders"]),
        (
            "select o.id from orders o join customers c on c.idd = o.customer_id",
            &["idd@1:49 in c (customers)"],
        ),
        (
            "select status, count(*) as n from orders group by statu",
            &["statu@1:51 in orders"],
        ),
        (
            "select status, count(*) as n from orders group by status having n > 1 and nn > 2",
            &["nn@1:75 in orders"],
        ),
        // Select-list aliases are visible to WHERE, GROUP BY and HAVING (DuckDB).
        (
            "select amount * 2 as double_amount from orders where double_amount > 10",
            &[],
        ),
        // Lateral aliases, CTEs, subqueries and correlated references.
        ("select amount as a, a + 1 as b from orders", &[]),
        (
            "with x as (select id as order_id from orders) select order_id from x",
            &[],
        ),
        (
            "with x as (select id as order_id from orders) select id from x",
            &["id@1:54 in x"],
        ),
        (
            "select (select max(amount) from payments p where p.order_id = o.id) from orders o",
            &[],
        ),
        (
            "select * from orders o where exists (select 1 from payments p where p.order_idd = o.id)",
            &["order_idd@1:71 in p (payments)"],
        ),
        // USING, lambdas, struct fields, unknown and partly known relations.
        ("select id, name from orders join customers using (id)", &[]),
        ("select list_transform([1, 2], x -> x + 1) as l from orders", &[]),
        ("select mystery_col from mystery", &[]),
        (
            "select o.id, m.whatever from orders o join mystery m on m.k = o.id",
            &[],
        ),
        ("select user_id, not_declared from raw.events", &[]),
        ("select 1 as x where y = 1", &[]),
        // ORDER BY sees the FROM items, the aliases and positions; a set
        // operation's sees its output columns.
        ("select amount * 2 as a from orders order by a, status, 1", &[]),
        ("select id from orders order by amout", &["amout@1:32 in orders"]),
        (
            "select id from orders union all select id from payments order by id",
            &[],
        ),
        (
            "select id from orders union all select id from payments order by amount",
            &["amount@1:66 in the columns of the set operation"],
        ),
        (
            "select * from mystery union all select id from orders order by anything",
            &[],
        ),
    ];
    let mut failures = Vec::new();
    for (sql, want) in cases {
        let missing = parse(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .analyze(&catalog)
            .missing;
        let got: Vec<String> = missing
            .iter()
            .map(|m| format!("{}@{}:{} in {}", m.column, m.line, m.column_number, m.searched))
            .collect();
        if got != *want {
            failures.push(format!("{sql}\n  want {want:?}\n  got  {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Set operations whose sides have different numbers of known columns.
#[test]
fn set_operations_with_different_column_counts_are_found() {
    let catalog = catalog();
    let cases: &[(&str, &[&str])] = &[
        ("select id from orders union all select id from customers", &[]),
        (
            "select id, amount from orders union select id from customers",
            &["union 2/1 @1:37"],
        ),
        (
            "select id from orders except select id, name from customers",
            &["except 1/2 @1:30"],
        ),
        (
            "select id, amount from orders union all by name select id from customers",
            &[],
        ),
        ("select * from mystery union all select id from orders", &[]),
        (
            "select 1 as a, 2 as b union all select 1 as a union all select 3 as a",
            &["union all 2/1 @1:33", "union all 2/1 @1:57"],
        ),
    ];
    for (sql, want) in cases {
        let got: Vec<String> = parse(sql)
            .unwrap()
            .analyze(&catalog)
            .mismatched
            .iter()
            .map(|m| format!("{} {}/{} @{}:{}", m.operator, m.left, m.right, m.line, m.column_number))
            .collect();
        assert_eq!(&got, want, "{sql}");
    }
}
