//! The demo FraiseQL server: `schema/blog.graphql`, compiled by `build.rs`.

mod schema {
    include!(concat!(env!("OUT_DIR"), "/fraiseql_schema.rs"));
}

fn main() -> std::process::ExitCode {
    fraiseql_runtime::cli::main(&schema::SCHEMA)
}
