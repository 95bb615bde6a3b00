//! The GraphiQL playground, embedded in the binary so that a deployed server needs no CDN and no
//! files on disk. The HTTP layer serves [`PAGE_HTML`] for a browser's `GET /graphql` and
//! [`asset`] under `/playground/{file}`. Where the vendored files come from:
//! `fraiseql-runtime/assets/playground/VENDORED.md`.

/// The playground page; it loads only files that [`asset`] serves.
pub const PAGE_HTML: &str = include_str!("../assets/playground/index.html");

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

/// `(file name, content type, bytes)` for every file served under `/playground/`. A fixed table,
/// not a directory lookup, so a request can never name a path outside it.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "graphiql.min.js",
        JS,
        include_bytes!("../assets/playground/graphiql.min.js"),
    ),
    (
        "graphiql.min.css",
        CSS,
        include_bytes!("../assets/playground/graphiql.min.css"),
    ),
    (
        "react.production.min.js",
        JS,
        include_bytes!("../assets/playground/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        JS,
        include_bytes!("../assets/playground/react-dom.production.min.js"),
    ),
    (
        "playground.js",
        JS,
        include_bytes!("../assets/playground/playground.js"),
    ),
    // The licenses travel with the code they cover, so they are served too.
    (
        "graphiql.LICENSE",
        TEXT,
        include_bytes!("../assets/playground/graphiql.LICENSE"),
    ),
    (
        "react.LICENSE",
        TEXT,
        include_bytes!("../assets/playground/react.LICENSE"),
    ),
    (
        "react-dom.LICENSE",
        TEXT,
        include_bytes!("../assets/playground/react-dom.LICENSE"),
    ),
];

/// The content type and bytes of the playground file `name` (e.g. `graphiql.min.js`), or `None`
/// when there is no such file.
pub fn asset(name: &str) -> Option<(&'static str, &'static [u8])> {
    ASSETS
        .iter()
        .find(|(file, _, _)| *file == name)
        .map(|(_, content_type, bytes)| (*content_type, *bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `src="..."`/`href="..."` value in the page.
    fn page_references() -> Vec<&'static str> {
        let mut refs = Vec::new();
        for attr in ["src=\"", "href=\""] {
            let mut rest = PAGE_HTML;
            while let Some(start) = rest.find(attr) {
                rest = &rest[start + attr.len()..];
                let end = rest.find('"').expect("attribute value is closed");
                refs.push(&rest[..end]);
                rest = &rest[end..];
            }
        }
        refs
    }

    #[test]
    fn every_file_the_page_loads_is_served_locally() {
        let refs = page_references();
        assert!(refs.len() >= 5, "page references: {refs:?}");
        for reference in refs {
            if reference == "data:," {
                continue; // the empty favicon, so the browser does not ask for /favicon.ico
            }
            let name = reference
                .strip_prefix("/playground/")
                .unwrap_or_else(|| panic!("{reference} is not a /playground/ file"));
            assert!(asset(name).is_some(), "{name} is not served");
        }
    }

    #[test]
    fn the_page_mentions_no_other_host() {
        for scheme in [
            "http://",
            "https://",
            "//cdn",
            "//unpkg",
            "fonts.googleapis",
        ] {
            assert!(!PAGE_HTML.contains(scheme), "page contains {scheme}");
        }
    }

    #[test]
    fn the_page_script_points_graphiql_at_this_server() {
        let (content_type, bytes) = asset("playground.js").expect("playground.js is served");
        assert!(content_type.starts_with("text/javascript"));
        let script = std::str::from_utf8(bytes).expect("utf-8");
        assert!(script.contains("createFetcher({ url: '/graphql' })"));
    }

    #[test]
    fn unknown_or_traversing_names_are_not_served() {
        assert!(asset("index.html.bak").is_none());
        assert!(asset("../Cargo.toml").is_none());
        assert!(asset("").is_none());
        let (content_type, _) = asset("graphiql.min.css").expect("css is served");
        assert_eq!(content_type, CSS);
    }
}
