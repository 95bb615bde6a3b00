fn main() -> std::process::ExitCode {
    fraiseql_runtime::cli::main(&custom_resolvers::schema::SCHEMA)
}
