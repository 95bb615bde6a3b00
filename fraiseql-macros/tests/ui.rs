//! Every mistake a user can make with `schema!` fails the build with a readable message.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
