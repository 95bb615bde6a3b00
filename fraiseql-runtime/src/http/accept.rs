//! Content negotiation from the `Accept` header: which of the media types we can answer the
//! client prefers, honouring q-values and wildcards. GraphQL-over-HTTP clients send e.g.
//! `application/graphql-response+json, application/json;q=0.9`; browsers send `text/html, …`.

/// How an `Accept` header matches one media type.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Match {
    /// The quality, 0.0 (not acceptable) to 1.0.
    pub q: f32,
    /// Whether the header names the type itself, not only `type/*` or `*/*`.
    pub exact: bool,
}

/// How `accept` matches `media` (`type/subtype`, lower case); the most specific range decides.
pub fn matching(accept: &str, media: &str) -> Match {
    let (kind, _) = media.split_once('/').unwrap_or((media, ""));
    let mut best: Option<(u8, f32)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let specificity = if name == media {
            3
        } else if name.strip_suffix("/*") == Some(kind) {
            2
        } else if name == "*/*" {
            1
        } else {
            continue;
        };
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0)
            .clamp(0.0, 1.0);
        if best.is_none_or(|(s, _)| specificity > s) {
            best = Some((specificity, q));
        }
    }
    best.map_or(
        Match {
            q: 0.0,
            exact: false,
        },
        |(specificity, q)| Match {
            q,
            exact: specificity == 3,
        },
    )
}

/// The GraphQL response media type for `accept`: `application/graphql-response+json` when the
/// client names it and ranks it no lower than `application/json`; `application/json` for a
/// missing header, wildcards and legacy clients (the GraphQL-over-HTTP spec's rule for
/// `*/*` and an absent header). A header accepting neither still gets `application/json`:
/// an error the client can read beats a bare 406.
pub fn graphql_media(accept: &str) -> &'static str {
    // The headers almost every client sends, answered without parsing.
    match accept.trim() {
        "" | "*/*" | JSON => return JSON,
        GRAPHQL_RESPONSE_JSON => return GRAPHQL_RESPONSE_JSON,
        _ => {}
    }
    let modern = matching(accept, GRAPHQL_RESPONSE_JSON);
    let legacy = matching(accept, JSON);
    let named_first = modern.exact && modern.q >= legacy.q;
    if modern.q > 0.0 && (named_first || legacy.q <= 0.0) {
        GRAPHQL_RESPONSE_JSON
    } else {
        JSON
    }
}

/// Whether a browser is asking: `text/html` ranks above both JSON types.
pub fn prefers_html(accept: &str) -> bool {
    let html = matching(accept, "text/html").q;
    html > 0.0
        && html > matching(accept, JSON).q
        && html > matching(accept, GRAPHQL_RESPONSE_JSON).q
}

/// The media type of the GraphQL-over-HTTP spec.
pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
/// The legacy media type.
pub const JSON: &str = "application/json";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_media_type_only_when_named_and_not_ranked_lower() {
        assert_eq!(graphql_media(""), JSON);
        assert_eq!(graphql_media("*/*"), JSON);
        assert_eq!(graphql_media("application/json"), JSON);
        assert_eq!(graphql_media("text/plain"), JSON);
        assert_eq!(
            graphql_media("application/graphql-response+json"),
            GRAPHQL_RESPONSE_JSON
        );
        assert_eq!(
            graphql_media("application/graphql-response+json, application/json;q=0.9"),
            GRAPHQL_RESPONSE_JSON
        );
        assert_eq!(
            graphql_media("application/json, application/graphql-response+json;q=0.5"),
            JSON
        );
        assert_eq!(
            graphql_media("application/*, application/json;q=0"),
            GRAPHQL_RESPONSE_JSON
        );
    }

    #[test]
    fn browsers_prefer_html() {
        assert!(prefers_html(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        ));
        assert!(!prefers_html("application/json"));
        assert!(!prefers_html("*/*"));
        assert!(!prefers_html(""));
        assert!(!prefers_html("text/html;q=0.5, application/json"));
    }
}
