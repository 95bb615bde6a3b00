//! The `build.rs` entry point: read `<crate>/<dir>/*.graphql`, tell cargo to rerun when any of
//! them changes, and write `$OUT_DIR/fraiseql_schema.rs` (only when its content changed, so an
//! unchanged schema does not recompile the crate). Errors go to stderr, one per line as
//! `file:line:col: message`, and the build script exits with status 1 so cargo shows them.

use std::path::{Path, PathBuf};

use crate::operations::OPERATIONS_DIR;
use crate::{compile_with_operations, Generated, SchemaError};

/// Why the schema directory could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DirError {
    /// The directory is missing or unreadable.
    #[error("cannot read schema directory {dir}: {source}")]
    ReadDir { dir: String, source: std::io::Error },
    /// A schema file is unreadable (e.g. not UTF-8).
    #[error("cannot read schema file {file}: {source}")]
    ReadFile {
        file: String,
        source: std::io::Error,
    },
    /// The directory holds no `.graphql` file.
    #[error("schema directory {dir} has no .graphql files")]
    Empty { dir: String },
    /// The schema has errors.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Schema(Vec<SchemaError>),
}

/// Reads and compiles `<root>/<dir>/*.graphql` (sorted by name) and the trusted operations in
/// `<root>/<dir>/operations/*.graphql`, when that directory exists. Paths in messages and in
/// the model are `<dir>/<file>`, relative to `root`. Also returns the files read.
pub fn compile_dir(root: &Path, dir: &str) -> Result<(Generated, Vec<PathBuf>), DirError> {
    let (sources, mut files) = read_sources(root, dir)?;
    if sources.is_empty() {
        return Err(DirError::Empty {
            dir: dir.to_owned(),
        });
    }
    let operations_dir = format!("{}/{OPERATIONS_DIR}", dir.trim_end_matches('/'));
    // No operations directory is the common case (every example): no trusted documents.
    let (operations, operation_files) = if root.join(&operations_dir).is_dir() {
        read_sources(root, &operations_dir)?
    } else {
        (Vec::new(), Vec::new())
    };
    files.extend(operation_files);
    let generated = compile_with_operations(&sources, &operations).map_err(DirError::Schema)?;
    Ok((generated, files))
}

/// `(shown path, text)` of each file, as the compiler takes them.
type Sources = Vec<(String, String)>;

/// `(shown path, text)` of each `.graphql` file directly in `<root>/<dir>`, by name, and the
/// files' full paths.
fn read_sources(root: &Path, dir: &str) -> Result<(Sources, Vec<PathBuf>), DirError> {
    let full = root.join(dir);
    let read_dir = std::fs::read_dir(&full).map_err(|source| DirError::ReadDir {
        dir: dir.to_owned(),
        source,
    })?;
    let mut files: Vec<PathBuf> = read_dir
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "graphql") && p.is_file())
        .collect();
    files.sort();
    let mut sources = Vec::new();
    for path in &files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let shown = format!("{}/{name}", dir.trim_end_matches('/'));
        let text = std::fs::read_to_string(path).map_err(|source| DirError::ReadFile {
            file: shown.clone(),
            source,
        })?;
        sources.push((shown, text));
    }
    Ok((sources, files))
}

/// For `build.rs`: compiles `$CARGO_MANIFEST_DIR/<dir>` into `$OUT_DIR/fraiseql_schema.rs`, or
/// prints every error and exits with status 1.
pub fn build(dir: &str) {
    if let Err(message) = try_build(dir) {
        for line in message.lines() {
            eprintln!("{line}");
        }
        // Also as a cargo warning, so the first error shows even where stderr is not printed.
        if let Some(first) = message.lines().next() {
            println!("cargo:warning={first}");
        }
        std::process::exit(1);
    }
}

fn try_build(dir: &str) -> Result<(), String> {
    let root = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .ok_or("CARGO_MANIFEST_DIR is not set; fraiseql_compiler::build runs from build.rs")?;
    let out_dir = std::env::var_os("OUT_DIR")
        .map(PathBuf::from)
        .ok_or("OUT_DIR is not set; fraiseql_compiler::build runs from build.rs")?;
    // Rerun on any change in the directory (a file added or removed; cargo scans a directory
    // recursively, so this also covers `operations/` appearing), and on each file.
    println!("cargo:rerun-if-changed={}", root.join(dir).display());
    let (generated, files) = compile_dir(&root, dir).map_err(|e| e.to_string())?;
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
    }
    write_if_changed(&out_dir.join("fraiseql_schema.rs"), &generated.code)
        .map_err(|e| format!("cannot write fraiseql_schema.rs to OUT_DIR: {e}"))
}

/// Writes `content` unless the file already holds exactly it (keeps its mtime, so cargo does
/// not rebuild the crate for an unchanged schema).
fn write_if_changed(path: &Path, content: &str) -> std::io::Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == content) {
        return Ok(());
    }
    std::fs::write(path, content)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("fraiseql-compiler-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        dir
    }

    #[test]
    fn unchanged_content_is_not_rewritten() {
        let dir = scratch("write");
        let file = dir.join("out.rs");
        write_if_changed(&file, "a").expect("write");
        let first = std::fs::metadata(&file)
            .and_then(|m| m.modified())
            .expect("mtime");
        std::thread::sleep(std::time::Duration::from_millis(20));
        write_if_changed(&file, "a").expect("write again");
        assert_eq!(
            std::fs::metadata(&file)
                .and_then(|m| m.modified())
                .expect("mtime"),
            first
        );
        write_if_changed(&file, "b").expect("write changed");
        assert_eq!(std::fs::read_to_string(&file).expect("read"), "b");
    }

    #[test]
    fn directory_problems_are_reported_without_absolute_paths() {
        let root = scratch("dirs");
        let missing = compile_dir(&root, "schema").err().expect("missing dir");
        assert!(
            missing
                .to_string()
                .starts_with("cannot read schema directory schema:"),
            "{missing}"
        );
        std::fs::create_dir_all(root.join("schema")).expect("mkdir");
        std::fs::write(root.join("schema/notes.txt"), "not a schema").expect("write");
        let empty = compile_dir(&root, "schema").err().expect("empty dir");
        assert_eq!(
            empty.to_string(),
            "schema directory schema has no .graphql files"
        );
    }

    #[test]
    fn files_are_read_in_name_order_with_crate_relative_paths() {
        let root = scratch("order");
        std::fs::create_dir_all(root.join("schema")).expect("mkdir");
        std::fs::write(
            root.join("schema/b.graphql"),
            "type Query { items: [Item!]! }",
        )
        .expect("write");
        std::fs::write(
            root.join("schema/a.graphql"),
            "type Item @table { id: ID! }",
        )
        .expect("write");
        let (generated, files) = compile_dir(&root, "schema").expect("compiles");
        assert_eq!(
            generated.model.files,
            ["schema/a.graphql", "schema/b.graphql"]
        );
        assert_eq!(files.len(), 2);
        assert_eq!(generated.model.query[0].source.file, "schema/b.graphql");
    }

    #[test]
    fn trusted_operations_are_read_from_the_operations_directory() {
        let root = scratch("operations");
        std::fs::create_dir_all(root.join("schema/operations")).expect("mkdir");
        std::fs::write(
            root.join("schema/a.graphql"),
            "type Item @table { id: ID! }\ntype Query { items: [Item!]! }",
        )
        .expect("write");
        std::fs::write(
            root.join("schema/operations/items.graphql"),
            "query Items { items { id } }",
        )
        .expect("write");
        let (generated, files) = compile_dir(&root, "schema").expect("compiles");
        assert_eq!(generated.operations[0].id, "Items");
        assert_eq!(files.len(), 2);
        std::fs::write(
            root.join("schema/operations/bad.graphql"),
            "query Bad { items { nope } }",
        )
        .expect("write");
        let error = compile_dir(&root, "schema").err().expect("a bad operation");
        assert!(
            error.to_string().contains(
                "schema/operations/bad.graphql:1:21: type `Item` does not have a field `nope`"
            ),
            "{error}"
        );
    }
}
