// Query.userByEmail is declared with @resolver, but no function resolves it: the build fails
// where the schema module names it, with the field's schema position.
include!("resolvers/prelude.rs");
include!("resolvers/posts_by_tag.rs");
include!("resolvers/latest_post.rs");
include!("resolvers/publish_post.rs");
