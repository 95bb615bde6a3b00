//! Every mistake a user can make with `schema!`, `#[fraiseql::query]` and
//! `#[fraiseql::mutation]` fails the build with a readable message at the user's tokens; a
//! crate that resolves every `@resolver` field correctly compiles.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
    cases.pass("tests/ui/pass/*.rs");
}
