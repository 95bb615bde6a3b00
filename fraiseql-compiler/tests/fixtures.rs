//! Every schema error case: `tests/fixtures/<case>/schema.graphql` (with the trusted operations
//! in `tests/fixtures/<case>/operations/*.graphql`, when there are any) must fail to compile with
//! exactly the messages in `expected.txt` (one per line). `FRAISEQL_BLESS=1` rewrites the
//! expected files from the current output (review the diff before committing).

use std::path::Path;

#[test]
fn every_fixture_fails_with_its_expected_messages() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures dir")
        .map(|e| e.expect("entry").path())
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 20,
        "expected the full set of fixtures, found {}",
        cases.len()
    );
    let bless = std::env::var_os("FRAISEQL_BLESS").is_some();
    let mut failures = Vec::new();
    for case in &cases {
        let name = case
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let path = format!("tests/fixtures/{name}/schema.graphql");
        let text = std::fs::read_to_string(case.join("schema.graphql")).expect("schema.graphql");
        let operations = operations(case, &name);
        let actual = match fraiseql_compiler::compile_with_operations(&[(path, text)], &operations)
        {
            Ok(_) => String::from("<compiled without errors>\n"),
            Err(errors) => errors.iter().map(|e| format!("{e}\n")).collect(),
        };
        let expected_path = case.join("expected.txt");
        if bless {
            std::fs::write(&expected_path, &actual).expect("write expected.txt");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if actual != expected {
            failures.push(format!(
                "--- {name}\nexpected:\n{expected}actual:\n{actual}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} fixture(s) differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// `(path, text)` of each `<case>/operations/*.graphql`, by name.
fn operations(case: &Path, name: &str) -> Vec<(String, String)> {
    let Ok(entries) = std::fs::read_dir(case.join("operations")) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries.map(|e| e.expect("entry").path()).collect();
    files.sort();
    files
        .iter()
        .map(|file| {
            let file_name = file.file_name().expect("name").to_string_lossy();
            (
                format!("tests/fixtures/{name}/operations/{file_name}"),
                std::fs::read_to_string(file).expect("operation file"),
            )
        })
        .collect()
}
