//! One request's view of the cache: per root field the policy granted, its key and tags, and
//! where its part comes from; then the response's HTTP caching (`Cache-Control`, `Vary`) and
//! the `extensions` that report a capped `@cache` request.

use std::sync::Arc;

use apollo_compiler::response::JsonMap;

use super::entry::{now_ms, Entry};
use super::flight::Leader;
use super::key::{identity, Key, KeyParts};
use super::policy::{lookup_key, DocumentCache, Granted, RootCache};
use super::tags::Tag;
use crate::model::{CacheScope, SchemaModel};
use crate::plan::OperationPlan;

/// The header of a read that must see its own writes (a read-your-writes token); for now any
/// request carrying it bypasses the result cache.
pub const CONSISTENCY_HEADER: &str = "fraiseql-consistency";
/// [`CONSISTENCY_HEADER`] as a header name, looked up without parsing.
pub(crate) const CONSISTENCY_HEADER_NAME: actix_web::http::header::HeaderName =
    actix_web::http::header::HeaderName::from_static(CONSISTENCY_HEADER);

/// What a request reads the cache with.
pub(crate) struct Inputs<'a> {
    pub model: &'static SchemaModel,
    pub doc: &'a DocumentCache,
    pub plan: &'a OperationPlan,
    pub operation_name: Option<&'a str>,
    pub variables: &'a JsonMap,
    pub headers: &'a crate::graphql::Headers,
    /// The caller's verified claims (row-filter values go into keys).
    pub claims: Option<&'a crate::auth::Claims>,
}

/// Where a root field's part comes from.
pub(crate) enum Source {
    /// Run it; nothing is stored.
    Run,
    /// Served from a tier (or a flight another request led).
    Cached {
        entry: Arc<Entry>,
        cut_ms: Option<u64>,
    },
    /// Run it and store the result.
    Fill(Fill),
}

/// A part to store once run.
pub(crate) struct Fill {
    /// The flight this request leads, if any (followers wait for it).
    pub leader: Option<Leader>,
    /// Local tag versions read before the SQL.
    pub local: Vec<u64>,
    /// L2 tag versions read before the SQL (`None`: L2 was not read).
    pub l2: Option<Vec<u64>>,
}

/// One root entry of the plan, for one request.
pub(crate) struct RootState {
    /// Whether the field is in the response (not skipped) and reads: only those bear on the
    /// response's policy (`__typename` and introspection do not).
    pub read: bool,
    pub response_key: String,
    pub granted: Granted,
    /// Whether this request may look the field up and store it.
    pub cacheable: bool,
    pub key: Key,
    pub tags: Vec<Tag>,
    pub source: Source,
    /// The field reads a row-filtered type: its answer depends on the caller's token, so
    /// HTTP caches must treat it as private.
    pub filtered: bool,
}

/// Policies, keys and tags of each root field; every source is [`Source::Run`]. With
/// `bypass_all` (no cache) or the consistency header nothing is looked up or stored.
pub(crate) fn evaluate(inputs: &Inputs<'_>, bypass_all: bool) -> Vec<RootState> {
    let caller = identity(inputs.headers);
    let bypass = bypass_all || inputs.headers.get_named(&CONSISTENCY_HEADER_NAME).is_some();
    let mut roots = Vec::with_capacity(inputs.plan.roots.len());
    for (root, cache) in inputs.plan.roots.iter().zip(&inputs.doc.roots) {
        let active = root.inclusion.holds(inputs.variables) && root.kind.uses_database();
        let mut state = RootState {
            read: false,
            response_key: root.key.to_string(),
            granted: Granted {
                policy: None,
                capped: None,
            },
            cacheable: false,
            key: [0; 32],
            tags: Vec::new(),
            source: Source::Run,
            filtered: false,
        };
        if let (true, RootCache::Read(read)) = (active, cache) {
            state.read = true;
            // A custom resolver may scope its rows by any claim, so its answer is the
            // caller's own as soon as a token is involved.
            state.filtered = !read.claims.is_empty() || (read.custom && inputs.claims.is_some());
            state.granted = read.granted(inputs.variables);
            let private = state
                .granted
                .policy
                .is_some_and(|p| p.scope == CacheScope::Private);
            state.cacheable =
                !bypass && state.granted.policy.is_some() && (!private || caller.is_some());
            if state.cacheable {
                state.key = KeyParts {
                    schema_hash: inputs.model.hash,
                    doc_hash: &inputs.doc.doc_hash,
                    operation_name: inputs.operation_name,
                    response_key: root.key.as_str(),
                    variables: &read.variables,
                    values: inputs.variables,
                    identity: if private { caller.as_ref() } else { None },
                    claims: &read.claims,
                    claim_values: inputs.claims,
                    whole_caller: read.custom,
                }
                .key();
                let mut tags = vec![Tag::All];
                tags.extend(read.tables.iter().map(|t| Tag::Table(*t)));
                if let Some((type_index, id)) = &read.lookup {
                    let table = inputs.model.types[*type_index].table;
                    tags.push(Tag::Keyed(*type_index));
                    match lookup_key(id, inputs.variables) {
                        Some(key) => tags.push(Tag::row(table, key)),
                        // Not a key: the field fails anyway; depend on the whole table.
                        None => tags.push(Tag::Table(*type_index)),
                    }
                }
                state.tags = tags;
            }
        }
        roots.push(state);
    }
    roots
}

/// `Cache-Control` of a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheControl {
    /// `no-store`.
    NoStore,
    /// `public, max-age=N`.
    Public(u32),
    /// `private, max-age=N`.
    Private(u32),
}

impl CacheControl {
    /// The header's value.
    pub fn header_value(&self) -> String {
        let (prefix, age) = match self {
            CacheControl::NoStore => return "no-store".to_owned(),
            CacheControl::Public(age) => ("public, max-age=", age),
            CacheControl::Private(age) => ("private, max-age=", age),
        };
        // Once per response: without `format!`'s machinery.
        let mut value = String::with_capacity(prefix.len() + 10);
        value.push_str(prefix);
        value.push_str(itoa::Buffer::new().format(*age));
        value
    }

    /// Whether a cache may keep the response.
    pub fn cacheable(&self) -> bool {
        !matches!(self, CacheControl::NoStore)
    }
}

/// How HTTP caches may treat a response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpCaching {
    /// `Cache-Control`.
    pub cache_control: CacheControl,
    /// Whether the answer depends on `Authorization` (PRIVATE data).
    pub vary_authorization: bool,
}

impl HttpCaching {
    /// Never stored (mutations, errors, requests that were not executed).
    pub fn no_store() -> HttpCaching {
        HttpCaching {
            cache_control: CacheControl::NoStore,
            vary_authorization: false,
        }
    }
}

/// The response's HTTP caching: the lowest freshness left of what it touches (a cached part's
/// remaining ttl, a fresh part's granted ttl), private if any part is; `no-store` when a part
/// has no policy, the response has errors, or PRIVATE data goes to an anonymous caller.
pub(crate) fn http_caching(
    roots: &[RootState],
    has_errors: bool,
    headers: &crate::graphql::Headers,
) -> HttpCaching {
    let anonymous = identity(headers).is_none();
    let now = now_ms();
    let mut age = u32::MAX;
    let mut private = false;
    let mut any = false;
    for root in roots.iter().filter(|r| r.read) {
        let Some(policy) = root.granted.policy else {
            return HttpCaching::no_store();
        };
        any = true;
        private |= policy.scope == CacheScope::Private || root.filtered;
        let left = match &root.source {
            Source::Cached { entry, cut_ms } => entry.remaining_seconds(now, *cut_ms),
            _ => policy.ttl_seconds,
        };
        age = age.min(left);
    }
    if !any || has_errors || (private && anonymous) {
        return HttpCaching {
            cache_control: CacheControl::NoStore,
            vary_authorization: private,
        };
    }
    HttpCaching {
        cache_control: if private {
            CacheControl::Private(age)
        } else {
            CacheControl::Public(age)
        },
        vary_authorization: private,
    }
}

/// `"cache":{"capped":[…]}` for the response's `extensions` when an `@cache` request asked for
/// more than the schema allows; `None` otherwise.
pub(crate) fn capped_extension(roots: &[RootState]) -> Option<serde_json::Value> {
    let scope = |s: Option<CacheScope>| match s {
        Some(CacheScope::Public) => serde_json::Value::from("PUBLIC"),
        Some(CacheScope::Private) => serde_json::Value::from("PRIVATE"),
        None => serde_json::Value::Null,
    };
    let capped: Vec<serde_json::Value> = roots
        .iter()
        .filter(|r| r.read)
        .filter_map(|r| {
            let asked = r.granted.capped?;
            Some(serde_json::json!({
                "path": [r.response_key],
                "requested": {"ttl": asked.ttl, "scope": scope(asked.scope)},
                "granted": r.granted.policy.map(|p| serde_json::json!({
                    "ttl": p.ttl_seconds,
                    "scope": scope(Some(p.scope)),
                })),
            }))
        })
        .collect();
    (!capped.is_empty()).then(|| serde_json::json!({ "cache": { "capped": capped } }))
}
