//! Names: GraphQL field and type names to SQL names, safe identifiers, and "did you mean"
//! suggestions for misspelt names.

/// `createdAt` -> `created_at`, `HTTPRequest` -> `http_request`, `User` -> `user`.
///
/// A table's default name is the snake_case of its type name (`BlogPost` -> `blog_post`, not
/// pluralised: pluralising English is guesswork, and `@table(name:)` says it exactly).
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev = i.checked_sub(1).map(|p| chars[p]);
            let next = chars.get(i + 1).copied();
            // A new word starts at an upper-case letter after a lower-case one or a digit
            // (`createdAt`), or at the last capital of an acronym (`HTTPRequest` -> `http_request`).
            let starts_word = match prev {
                Some(p) if p.is_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_uppercase() => next.is_some_and(|n| n.is_lowercase()),
                _ => false,
            };
            if starts_word && !out.ends_with('_') {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `CreateUserInput`: the generated input of `@insert` mutations of type `User`.
pub fn create_input(type_name: &str) -> String {
    format!("Create{type_name}Input")
}

/// `UpdateUserInput`: the generated input of `@update` mutations of type `User`.
pub fn update_input(type_name: &str) -> String {
    format!("Update{type_name}Input")
}

/// Whether `name` can be used unquoted-looking inside our quoted SQL identifiers and as a Rust
/// field: ASCII letters, digits and `_`, not starting with a digit. Keeping names to this set
/// is what makes embedding them in SQL templates safe.
pub fn is_plain_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Rust keywords that cannot be a struct field even as a raw identifier (`r#self` is invalid).
pub fn is_unusable_rust_field(name: &str) -> bool {
    matches!(name, "self" | "Self" | "super" | "crate" | "_")
}

/// The candidate closest to `name`, if it is close enough to be a likely typo.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(score, c)| *score >= 0.8 && *c != name)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// `did you mean "x"?`, quoting the suggestion the way the message quotes names.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    quote: bool,
) -> Option<String> {
    closest(name, candidates).map(|c| {
        if quote {
            format!("did you mean \"{c}\"?")
        } else {
            format!("did you mean {c}?")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_splits_words_and_acronyms() {
        assert_eq!(snake_case("createdAt"), "created_at");
        assert_eq!(snake_case("User"), "user");
        assert_eq!(snake_case("BlogPost"), "blog_post");
        assert_eq!(snake_case("HTTPRequest"), "http_request");
        assert_eq!(snake_case("userID"), "user_id");
        assert_eq!(snake_case("line2Total"), "line2_total");
        assert_eq!(snake_case("already_snake"), "already_snake");
        assert_eq!(snake_case("id"), "id");
    }

    #[test]
    fn identifiers_are_plain_ascii() {
        assert!(is_plain_identifier("user_id"));
        assert!(is_plain_identifier("_x1"));
        assert!(!is_plain_identifier("1x"));
        assert!(!is_plain_identifier("users\"; DROP"));
        assert!(!is_plain_identifier(""));
    }

    #[test]
    fn suggestions_find_typos_only() {
        let cols = ["id", "user_id", "post_id", "title"];
        assert_eq!(closest("user_idd", cols), Some("user_id"));
        assert_eq!(closest("titel", cols), Some("title"));
        assert_eq!(closest("zzzzzz", cols), None);
        assert_eq!(
            did_you_mean("Pst", ["Post", "User"], false).as_deref(),
            Some("did you mean Post?")
        );
    }
}
