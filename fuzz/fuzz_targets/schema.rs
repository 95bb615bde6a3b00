//! Any text as a schema file: the compiler parses, validates and generates code for it, or
//! returns its errors. Nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let sources = [("schema/app.graphql".to_string(), text.to_string())];
    let _ = fraiseql_compiler::compile_sources(&sources);
});
