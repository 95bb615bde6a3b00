fn main() {
    fraiseql_compiler::build("schema")
}
