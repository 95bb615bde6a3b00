mod schema {
    include!(concat!(env!("OUT_DIR"), "/fraiseql_schema.rs"));
}

fn main() -> std::process::ExitCode {
    fraiseql_runtime::cli::main(&schema::SCHEMA)
}
