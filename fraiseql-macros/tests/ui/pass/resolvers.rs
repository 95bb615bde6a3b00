// Every @resolver field of resolvers_schema/app.graphql resolved correctly: compiles.
include!("../resolvers/prelude.rs");
include!("../resolvers/user_by_email.rs");
include!("../resolvers/posts_by_tag.rs");
include!("../resolvers/latest_post.rs");
include!("../resolvers/publish_post.rs");
