//! The compile state and environment variables: in a test binary of its own, as
//! changing the environment would make the other state tests compile in full.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{cached, compile_like_the_cli, recompile, shop, write};

#[test]
fn a_changed_environment_variable_read_by_a_model_compiles_in_full() {
    let dir = shop();
    let root = dir.path();
    write(
        root,
        "models/regional.sql",
        "select '{{ env_var(\"MODELC_STATE_TEST_REGION\", \"eu\") }}' as region\n",
    );
    assert!(!recompile(root, &cached()));
    assert!(recompile(root, &cached()));
    std::env::set_var("MODELC_STATE_TEST_UNRELATED", "1");
    assert!(
        recompile(root, &cached()),
        "a variable nothing reads changed: the state stands"
    );
    std::env::set_var("MODELC_STATE_TEST_REGION", "us");
    assert!(!recompile(root, &cached()), "the variable changed: a full compile");
    let (fast, outcome) = compile_like_the_cli(root, &cached());
    assert!(fast);
    assert!(outcome.compiled["target/compiled/shop/models/regional.sql"].contains("'us'"));
}

/// A profile whose settings come from environment variables is read again.
#[test]
fn a_profile_changed_through_the_environment_compiles_in_full() {
    let dir = shop();
    let root = dir.path();
    write(
        root,
        "project.yml",
        "name: shop\nprofile: shop\nvars:\n  min_amount: 10\n",
    );
    write(
        root,
        "profiles.yml",
        "shop:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: shop.duckdb\n      schema: \"{{ env_var('MODELC_STATE_TEST_SCHEMA', 'main') }}\"\n",
    );
    assert!(!recompile(root, &cached()));
    assert!(recompile(root, &cached()));
    std::env::set_var("MODELC_STATE_TEST_SCHEMA", "analytics");
    let (fast, outcome) = compile_like_the_cli(root, &cached());
    assert!(!fast, "the schema changed through the profile");
    assert!(outcome.compiled["target/compiled/shop/models/customers.sql"].contains("\"analytics\""));
}
