//! Selection tests over the lending fixture, one snapshot per case.

use std::fmt::Write;

use crate::fixture::{lending, short};
use crate::select::Glob;
use crate::IndirectSelection::{self, Buildable, Cautious, Eager, Empty};

/// Runs a selection and pins its outcome in the snapshot `name`.
fn check(name: &str, select: &[&str], exclude: &[&str], mode: IndirectSelection) {
    let dag = lending();
    let select: Vec<String> = select.iter().map(|s| s.to_string()).collect();
    let exclude: Vec<String> = exclude.iter().map(|s| s.to_string()).collect();
    let mut out = String::new();
    let _ = writeln!(out, "select:   {select:?}");
    let _ = writeln!(out, "exclude:  {exclude:?}");
    let _ = writeln!(out, "indirect: {mode}");
    let _ = writeln!(out, "---");
    match dag.select(&select, &exclude, mode) {
        Ok(selection) => {
            for id in &selection.ids {
                let _ = writeln!(out, "{}", short(id));
            }
            for warning in &selection.warnings {
                let _ = writeln!(out, "warning: {warning}");
            }
        }
        Err(e) => {
            let _ = writeln!(out, "error: {e}");
        }
    }
    insta::assert_snapshot!(name, out);
}

// --- no selection, names, fqn -------------------------------------------

#[test]
fn default_selects_everything_but_sources() {
    check("default_all", &[], &[], Eager);
}

#[test]
fn blank_select_is_default() {
    check("blank_select", &["  "], &[], Eager);
}

#[test]
fn name() {
    check("name", &["stg_loans"], &[], Eager);
}

#[test]
fn name_of_other_package() {
    check("name_other_package", &["util_calendar"], &[], Eager);
}

#[test]
fn fqn_folder() {
    check("fqn_folder", &["staging"], &[], Eager);
}

#[test]
fn fqn_full() {
    check("fqn_full", &["lending.marts.finance.fct_loans"], &[], Eager);
}

#[test]
fn fqn_unscoped_prefix() {
    check("fqn_unscoped_prefix", &["marts.finance"], &[], Empty);
}

#[test]
fn fqn_package_prefix() {
    check("fqn_package_prefix", &["utils"], &[], Eager);
}

#[test]
fn fqn_method_explicit() {
    check("fqn_method", &["fqn:marts"], &[], Empty);
}

#[test]
fn fqn_does_not_select_sources() {
    check("fqn_no_sources", &["fqn:raw"], &[], Eager);
}

#[test]
fn glob_name() {
    check("glob_name", &["stg_*"], &[], Empty);
}

#[test]
fn glob_fqn_segment() {
    check("glob_fqn_segment", &["lending.staging.stg_[al]*"], &[], Empty);
}

#[test]
fn glob_suffix() {
    check("glob_suffix", &["*summary"], &[], Empty);
}

#[test]
fn glob_star_selects_all_non_sources() {
    check("glob_star", &["*"], &[], Empty);
}

// --- methods -------------------------------------------------------------

#[test]
fn tag() {
    check("tag", &["tag:finance"], &[], Empty);
}

#[test]
fn tag_glob() {
    check("tag_glob", &["tag:fin*"], &[], Empty);
}

#[test]
fn tag_on_source_brings_source_tests() {
    check("tag_source", &["tag:pii"], &[], Eager);
}

#[test]
fn path_directory() {
    check("path_directory", &["path:models/staging"], &[], Empty);
}

#[test]
fn path_trailing_slash_and_dot() {
    check("path_trailing_slash", &["path:./models/staging/"], &[], Empty);
}

#[test]
fn path_is_default_for_slashes() {
    check("path_default", &["models/marts"], &[], Empty);
}

#[test]
fn path_file() {
    check("path_file", &["path:models/marts/finance/fct_loans.sql"], &[], Empty);
}

#[test]
fn path_prefix_is_not_a_partial_name() {
    check("path_partial_name", &["path:models/mart"], &[], Empty);
}

#[test]
fn path_glob() {
    check("path_glob", &["path:models/*/finance"], &[], Empty);
}

#[test]
fn path_double_star() {
    check("path_double_star", &["path:models/**/schema.yml"], &[], Empty);
}

#[test]
fn path_yml() {
    check("path_yml", &["models/staging/sources.yml"], &[], Empty);
}

#[test]
fn file_method() {
    check("file", &["file:fct_loans.sql"], &[], Empty);
}

#[test]
fn file_stem() {
    check("file_stem", &["file:loan_*"], &[], Empty);
}

#[test]
fn file_is_default_for_extensions() {
    check("file_default", &["schema.yml raw_rates.csv"], &[], Empty);
}

#[test]
fn resource_type_seed() {
    check("resource_type_seed", &["resource_type:seed"], &[], Eager);
}

#[test]
fn resource_type_source() {
    check("resource_type_source", &["resource_type:source"], &[], Empty);
}

#[test]
fn resource_type_test() {
    check("resource_type_test", &["resource_type:test"], &[], Empty);
}

#[test]
fn resource_type_without_nodes_warns() {
    check("resource_type_exposure", &["resource_type:exposure"], &[], Eager);
}

#[test]
fn resource_type_invalid() {
    check("resource_type_invalid", &["resource_type:table"], &[], Eager);
}

#[test]
fn source_name() {
    check("source_name", &["source:raw"], &[], Eager);
}

#[test]
fn source_table_children() {
    check("source_table_children", &["source:raw.applicants+"], &[], Empty);
}

#[test]
fn source_with_package() {
    check("source_package", &["source:lending.raw.loans"], &[], Empty);
}

#[test]
fn source_glob() {
    check("source_glob", &["source:r*.l*"], &[], Empty);
}

#[test]
fn source_too_many_parts() {
    check("source_too_many_parts", &["source:a.b.c.d"], &[], Eager);
}

#[test]
fn config_materialized() {
    check("config_materialized", &["config.materialized:table"], &[], Empty);
}

#[test]
fn config_severity_case_insensitive() {
    check("config_severity", &["config.severity:warn"], &[], Empty);
}

#[test]
fn config_missing_key() {
    check("config_missing_key", &["config:table"], &[], Empty);
}

#[test]
fn group_and_access() {
    check("group_access", &["group:core", "access:public"], &[], Empty);
}

#[test]
fn test_type_generic() {
    check("test_type_generic", &["test_type:generic"], &[], Empty);
}

#[test]
fn test_type_singular() {
    check("test_type_singular", &["test_type:singular"], &[], Empty);
}

#[test]
fn test_type_data() {
    check("test_type_data", &["test_type:data"], &[], Empty);
}

#[test]
fn test_type_unit() {
    check("test_type_unit", &["test_type:unit"], &[], Empty);
}

#[test]
fn test_type_invalid() {
    check("test_type_invalid", &["test_type:schema_v2"], &[], Empty);
}

#[test]
fn test_name() {
    check("test_name", &["test_name:not_null"], &[], Empty);
}

#[test]
fn test_name_glob() {
    check("test_name_glob", &["test_name:*values"], &[], Empty);
}

#[test]
fn package() {
    check("package", &["package:utils"], &[], Eager);
}

#[test]
fn package_glob() {
    check("package_glob", &["package:lend*"], &[], Empty);
}

// --- graph operators -----------------------------------------------------

#[test]
fn parents() {
    check("parents", &["+fct_loans"], &[], Empty);
}

#[test]
fn children() {
    check("children", &["stg_loans+"], &[], Empty);
}

#[test]
fn parents_depth() {
    check("parents_depth", &["1+fct_loans"], &[], Empty);
}

#[test]
fn children_depth() {
    check("children_depth", &["stg_rates+2"], &[], Empty);
}

#[test]
fn both_directions_with_depths() {
    check("both_depths", &["2+int_loan_rates+1"], &[], Empty);
}

#[test]
fn parents_and_children() {
    check("parents_and_children", &["+dim_applicants+"], &[], Empty);
}

#[test]
fn at_operator() {
    check("at", &["@stg_rates"], &[], Empty);
}

#[test]
fn at_operator_with_method() {
    check("at_tag", &["@tag:reference"], &[], Empty);
}

#[test]
fn operator_with_path() {
    check("path_children", &["path:models/intermediate+"], &[], Empty);
}

#[test]
fn at_and_plus_prefix_conflict() {
    check("at_plus_conflict", &["@+stg_rates"], &[], Empty);
}

// --- set operations ------------------------------------------------------

#[test]
fn union_across_values_and_spaces() {
    check("union", &["stg_loans stg_rates", "dim_applicants"], &[], Empty);
}

#[test]
fn intersection() {
    check("intersection", &["tag:finance,resource_type:model"], &[], Eager);
}

#[test]
fn intersection_with_graph_operator() {
    check("intersection_graph", &["+loan_summary,tag:staging"], &[], Empty);
}

#[test]
fn intersection_three_way() {
    check(
        "intersection_three_way",
        &["marts,tag:nightly,config.materialized:table"],
        &[],
        Empty,
    );
}

#[test]
fn intersection_eager_keeps_shared_tests() {
    // Both parts select fct_loans and (eagerly) its tests.
    check("intersection_eager_tests", &["fct_loans,tag:nightly"], &[], Eager);
}

#[test]
fn exclude() {
    check("exclude", &["+fct_loans"], &["stg_loans"], Eager);
}

#[test]
fn exclude_from_default() {
    check("exclude_default", &[], &["tag:finance staging"], Empty);
}

#[test]
fn exclude_tests() {
    check("exclude_tests", &["+loan_summary"], &["resource_type:test"], Eager);
}

#[test]
fn exclude_everything() {
    check("exclude_everything", &["stg_loans"], &["stg_loans"], Eager);
}

#[test]
fn exclude_matching_nothing_warns() {
    check("exclude_warns", &["stg_rates"], &["nope"], Eager);
}

// --- indirect test selection ---------------------------------------------

#[test]
fn indirect_eager() {
    check("indirect_eager", &["fct_loans"], &[], Eager);
}

#[test]
fn indirect_cautious() {
    check("indirect_cautious", &["fct_loans"], &[], Cautious);
}

#[test]
fn indirect_buildable() {
    check("indirect_buildable", &["fct_loans"], &[], Buildable);
}

#[test]
fn indirect_empty() {
    check("indirect_empty", &["fct_loans"], &[], Empty);
}

#[test]
fn indirect_cautious_with_parents() {
    check("indirect_cautious_parents", &["+fct_loans"], &[], Cautious);
}

#[test]
fn indirect_cautious_across_union() {
    // Each criterion alone holds one parent of the relationships test.
    check("indirect_cautious_union", &["fct_loans dim_applicants"], &[], Cautious);
}

#[test]
fn indirect_buildable_across_union() {
    // The relationships test is pending in each criterion and incorporated
    // by the union; the singular test's other parent is an ancestor.
    check(
        "indirect_buildable_union",
        &["fct_loans dim_applicants"],
        &[],
        Buildable,
    );
}

#[test]
fn indirect_buildable_source_parent() {
    // Sources always count as buildable parents: the relationships test to
    // the raw.applicants source is added, unlike in cautious mode.
    check("indirect_buildable_source", &["stg_applicants"], &[], Buildable);
}

#[test]
fn indirect_cautious_source_parent() {
    check("indirect_cautious_source", &["stg_applicants"], &[], Cautious);
}

#[test]
fn indirect_empty_keeps_explicit_tests() {
    check(
        "indirect_empty_explicit",
        &["fct_loans test_name:relationships"],
        &[],
        Empty,
    );
}

#[test]
fn indirect_eager_then_excluded_parent() {
    // The relationships test is excluded with dim_applicants (eager exclude).
    check("indirect_excluded_parent", &["marts"], &["dim_applicants"], Cautious);
}

// --- warnings and errors -------------------------------------------------

#[test]
fn no_match_warns() {
    check("no_match", &["nope tag:finance"], &[], Empty);
}

#[test]
fn no_match_intersection_warns_whole_criterion() {
    check("no_match_intersection", &["tag:nope,stg_loans"], &[], Empty);
}

#[test]
fn unknown_method() {
    check("unknown_method", &["foo:bar"], &[], Eager);
}

#[test]
fn metric_not_supported() {
    check("metric_unsupported", &["+metric:revenue"], &[], Eager);
}

#[test]
fn method_argument_not_allowed() {
    check("method_argument", &["tag.x:y"], &[], Eager);
}

#[test]
fn empty_value() {
    check("empty_value", &["tag:"], &[], Eager);
}

#[test]
fn empty_intersection_part() {
    check("empty_intersection_part", &["stg_loans,,stg_rates"], &[], Eager);
}

#[test]
fn depth_overflow() {
    check("depth_overflow", &["99999999999999999999999+stg_loans"], &[], Eager);
}

#[test]
fn error_in_exclude() {
    check("error_in_exclude", &["stg_loans"], &["metric:weekly_report"], Eager);
}

#[test]
fn glob_semantics() {
    let cases = [
        ("stg_*", "stg_loans", true),
        ("stg_*", "xstg_loans", false),
        ("*", "", true),
        ("a*b*c", "axxbyyc", true),
        ("a*b*c", "axxbyy", false),
        ("?at", "cat", true),
        ("?at", "at", false),
        ("[bc]at", "cat", true),
        ("[!bc]at", "cat", false),
        ("[a-c]x", "bx", true),
        ("[]]", "]", true),
        ("[", "[", true),
        ("a[", "a[", true),
        ("fin*", "finance", true),
        ("*.yml", "models/schema.yml", true),
        ("ü*", "über", true),
    ];
    for (pattern, text, want) in cases {
        assert_eq!(Glob::new(pattern).is_match(text), want, "{pattern} ~ {text}");
    }
}

/// `state:` and `result:` read what the caller marked on the nodes from a
/// previous state; graph operators apply to them as to any method.
#[test]
fn state_and_result_select_the_marked_nodes() {
    let mut dag = lending();
    for (id, marks) in [
        ("model.lending.int_loan_rates", &["modified", "modified.body"][..]),
        ("model.lending.dim_applicants", &["new"][..]),
        ("model.lending.stg_loans", &["old", "unmodified"][..]),
    ] {
        let node = dag.node_mut(id).expect("node");
        node.state = marks.iter().map(|m| m.to_string()).collect();
    }
    if let Some(n) = dag.node_mut("model.lending.stg_rates") {
        n.result = Some("error".into());
    }
    let ids = |select: &str| -> Vec<String> {
        let selection = dag
            .select(&[select.to_string()], &[], Empty)
            .unwrap_or_else(|e| panic!("{select}: {e}"));
        selection.ids.iter().map(|id| short(id).to_string()).collect()
    };
    assert_eq!(ids("state:modified"), ["model.int_loan_rates"]);
    assert_eq!(ids("state:modified.body"), ["model.int_loan_rates"]);
    assert!(ids("state:modified.configs").is_empty());
    assert_eq!(ids("state:new"), ["model.dim_applicants"]);
    assert_eq!(ids("state:unmodified"), ["model.stg_loans"]);
    assert_eq!(
        ids("state:modified+"),
        [
            "analysis.loan_analysis",
            "model.fct_loans",
            "model.int_loan_rates",
            "model.loan_summary",
            "test.accepted_values_loan_summary_status",
            "test.assert_positive_amounts",
            "test.relationships_fct_loans_applicant_id"
        ]
    );
    assert_eq!(ids("result:error"), ["model.stg_rates"]);
}
