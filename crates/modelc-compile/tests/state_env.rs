//! The compile state and environment variables: in a test binary of its own, as
//! changing the environment would make the other state tests compile in full.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{cached, compile_like_the_cli, recompile, shop, write};

#[test]
fn a_changed_environment_variable_compiles_in_full() {
    let dir = shop();
    let root = dir.path();
    write(
        root,
        "models/regional.sql",
        "select '{{ env_var(\"MODELC_STATE_TEST_REGION\", \"eu\") }}' as region\n",
    );
    assert!(!recompile(root, &cached()));
    assert!(recompile(root, &cached()));
    std::env::set_var("MODELC_STATE_TEST_REGION", "us");
    assert!(!recompile(root, &cached()), "the variable changed: a full compile");
    let (fast, outcome) = compile_like_the_cli(root, &cached());
    assert!(fast);
    assert!(outcome.compiled["target/compiled/shop/models/regional.sql"].contains("'us'"));
}
