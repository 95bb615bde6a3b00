fn main() -> std::process::ExitCode {
    fraiseql_runtime::cli::main(&multi_tenant::schema::SCHEMA)
}
