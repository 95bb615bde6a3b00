fn main() -> std::process::ExitCode {
    fraiseql_runtime::cli::main(&sharded::schema::SCHEMA)
}
