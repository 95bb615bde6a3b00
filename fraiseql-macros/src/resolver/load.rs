//! Loading the schema a resolver is checked against. Every annotated function expands on its
//! own, so the compiled model is cached per directory for the life of the compiler process
//! (and of rust-analyzer's proc-macro server), keyed by the `.graphql` files' names, sizes and
//! modification times: an edited schema is compiled again, an unchanged one once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use fraiseql_compiler::model::Model;

use super::options::Options;
use super::Errors;

/// A compiled schema and the files it was read from.
pub(crate) struct Loaded {
    pub model: Arc<Model>,
    /// Absolute paths, for `include_str!` (so rustc re-expands when one changes).
    pub files: Vec<PathBuf>,
}

/// What identifies one version of a directory's schema files.
type Stamp = Vec<(PathBuf, u64, Option<SystemTime>)>;

struct Entry {
    stamp: Stamp,
    model: Arc<Model>,
}

fn cache() -> &'static Mutex<HashMap<PathBuf, Entry>> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Entry>>> = OnceLock::new();
    CACHE.get_or_init(Mutex::default)
}

/// The schema of `options.dir`, or `None` with the reason recorded at the `dir` option.
pub(crate) fn schema(options: &Options, errors: &mut Errors) -> Option<Loaded> {
    let Some(root) = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from) else {
        errors.at(
            options.dir_span,
            "CARGO_MANIFEST_DIR is not set; resolvers must be compiled by cargo",
        );
        return None;
    };
    let full = root.join(&options.dir);
    let stamp = stamp(&full);
    if let Some(stamp) = &stamp {
        // A poisoned lock only means another expansion panicked mid-insert; the map itself
        // is still a valid cache, so keep using it.
        let cached = cache()
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&full)
            .filter(|entry| &entry.stamp == stamp)
            .map(|entry| Arc::clone(&entry.model));
        if let Some(model) = cached {
            let files = stamp.iter().map(|(path, _, _)| path.clone()).collect();
            return Some(Loaded { model, files });
        }
    }
    match fraiseql_compiler::compile_dir(&root, &options.dir) {
        Ok((generated, files)) => {
            let model = Arc::new(generated.model);
            if let Some(stamp) = stamp {
                cache()
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(
                        full,
                        Entry {
                            stamp,
                            model: Arc::clone(&model),
                        },
                    );
            }
            Some(Loaded { model, files })
        }
        Err(fraiseql_compiler::DirError::Schema(list)) => {
            // The schema module reports each error itself; one line here says why this
            // function could not be checked.
            let first = list.first().map(ToString::to_string).unwrap_or_default();
            let more = match list.len() {
                0 | 1 => String::new(),
                n => format!(" (and {} more)", n - 1),
            };
            errors.at(
                options.dir_span,
                format!(
                    "cannot check this resolver: the schema in {} has errors: {first}{more}",
                    options.dir
                ),
            );
            None
        }
        Err(other) => {
            errors.at(
                options.dir_span,
                format!(
                    "{other}; resolvers read the schema from `dir` relative to Cargo.toml (default \"schema\"): set `dir = \"...\"`"
                ),
            );
            None
        }
    }
}

/// The directory's `.graphql` files with their sizes and modification times, sorted; `None`
/// when it cannot be listed (compiling it then reports why).
fn stamp(dir: &Path) -> Option<Stamp> {
    let mut stamp: Stamp = std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "graphql") && path.is_file())
        .map(|path| {
            let meta = std::fs::metadata(&path).ok();
            let len = meta.as_ref().map_or(0, std::fs::Metadata::len);
            let modified = meta.and_then(|m| m.modified().ok());
            (path, len, modified)
        })
        .collect();
    stamp.sort();
    Some(stamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(dir: &Path) -> Options {
        Options {
            schema: None,
            dir: dir.to_string_lossy().into_owned(),
            dir_span: proc_macro2::Span::call_site(),
            name: None,
            cache_ttl: None,
        }
    }

    fn query_fields(loaded: &Loaded) -> Vec<&str> {
        loaded.model.query.iter().map(|f| f.name.as_str()).collect()
    }

    #[test]
    fn a_schema_is_compiled_once_until_a_file_changes() {
        let dir = std::env::temp_dir().join(format!("fraiseql-macros-load-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        let table = "type Item @table { id: ID! }\n";
        std::fs::write(
            dir.join("a.graphql"),
            format!("{table}type Query {{ items: [Item!]! }}"),
        )
        .expect("write");
        let mut errors = Errors::default();
        let first = schema(&options(&dir), &mut errors).expect("loads");
        let again = schema(&options(&dir), &mut errors).expect("loads");
        assert!(errors.is_empty());
        assert!(Arc::ptr_eq(&first.model, &again.model), "cached");
        assert_eq!(query_fields(&first), ["items"]);

        // A different size changes the stamp even where mtimes are coarse.
        std::fs::write(
            dir.join("a.graphql"),
            format!("{table}type Query {{ item(id: ID!): Item\n  items: [Item!]! }}"),
        )
        .expect("rewrite");
        let changed = schema(&options(&dir), &mut errors).expect("loads");
        assert!(errors.is_empty());
        assert_eq!(query_fields(&changed), ["item", "items"]);
        assert_eq!(changed.files, [dir.join("a.graphql")]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
