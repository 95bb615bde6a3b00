//! The demo FraiseQL server: `schema/blog.graphql`, compiled by `build.rs`.

mod schema {
    include!(concat!(env!("OUT_DIR"), "/fraiseql_schema.rs"));
}

/// mimalloc instead of the system allocator: a request allocates a few dozen short-lived
/// blocks, and glibc's malloc/free were about 15 % of a request's instructions (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    fraiseql_runtime::cli::main(&schema::SCHEMA)
}
