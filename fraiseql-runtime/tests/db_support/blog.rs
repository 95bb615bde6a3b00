// A copy of the hand-written reference of the generated blog module (src/reference_generated_blog.rs
// in the root crate), so the db tests have a real model until generated code replaces it.

use ::fraiseql_runtime::__private::diesel;
use ::fraiseql_runtime::__private::row::json;
use ::fraiseql_runtime::model::*;

/// A row of table `users` (type `User`). A column the document did not select is `None`.
#[derive(Debug, Clone, Default)]

pub struct UserRow {
    pub id: Option<i64>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub bio: Option<String>,
    pub created_at: Option<String>,
}

impl<DB> diesel::deserialize::QueryableByName<DB> for UserRow
where
    DB: diesel::backend::Backend,
    String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
    i64: diesel::deserialize::FromSql<diesel::sql_types::BigInt, DB>,
{
    fn build<'a>(row: &impl diesel::row::NamedRow<'a, DB>) -> diesel::deserialize::Result<Self> {
        Ok(Self {
            id: diesel::row::NamedRow::get::<
                diesel::sql_types::Nullable<diesel::sql_types::BigInt>,
                Option<i64>,
            >(row, "id")?,
            name: diesel::row::NamedRow::get::<
                diesel::sql_types::Nullable<diesel::sql_types::Text>,
                Option<String>,
            >(row, "name")?,
            email: diesel::row::NamedRow::get::<
                diesel::sql_types::Nullable<diesel::sql_types::Text>,
                Option<String>,
            >(row, "email")?,
            bio: diesel::row::NamedRow::get::<
                diesel::sql_types::Nullable<diesel::sql_types::Text>,
                Option<String>,
            >(row, "bio")?,
            created_at: diesel::row::NamedRow::get::<
                diesel::sql_types::Nullable<diesel::sql_types::Text>,
                Option<String>,
            >(row, "created_at")?,
        })
    }
}

impl ::fraiseql_runtime::__private::row::Row for UserRow {
    fn int_column(&self, column: usize) -> Option<i64> {
        match column {
            0 => self.id,
            _ => None,
        }
    }
    fn write_column(&self, column: usize, out: &mut Vec<u8>) {
        match column {
            0 => json::id(out, self.id),
            1 => json::string(out, self.name.as_deref()),
            2 => json::string(out, self.email.as_deref()),
            3 => json::string(out, self.bio.as_deref()),
            4 => json::string(out, self.created_at.as_deref()),
            _ => json::null(out),
        }
    }
}

static USER_ROWS: ::fraiseql_runtime::__private::row::TableRows<UserRow> =
    ::fraiseql_runtime::__private::row::TableRows::new();

/// A row of table `posts` (type `Post`). A column the document did not select is `None`.
#[derive(Debug, Clone, Default)]

pub struct PostRow {
    pub id: Option<i64>,
    pub title: Option<String>,
    pub body: Option<String>,
    pub published: Option<bool>,
    pub status: Option<String>,
    pub rating: Option<f64>,
    pub views: Option<i32>,
    pub metadata: Option<String>,
    pub created_at: Option<String>,
    pub user_id: Option<i64>,
}

impl<DB> diesel::deserialize::QueryableByName<DB> for PostRow
where
    DB: diesel::backend::Backend,
    String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
    bool: diesel::deserialize::FromSql<diesel::sql_types::Bool, DB>,
    f64: diesel::deserialize::FromSql<diesel::sql_types::Double, DB>,
    i32: diesel::deserialize::FromSql<diesel::sql_types::Integer, DB>,
    i64: diesel::deserialize::FromSql<diesel::sql_types::BigInt, DB>,
{
    fn build<'a>(row: &impl diesel::row::NamedRow<'a, DB>) -> diesel::deserialize::Result<Self> {
        Ok(Self {
            id: diesel::row::NamedRow::get::<
                diesel::sql_types::Nullable<diesel::sql_types::BigInt>,
                Option<i64>,
            >(row, "id")?,
            title: diesel::row::NamedRow::get::<
                diesel::sql_types::Nullable<diesel::sql_types::Text>,
                Option<String>,
            >(row, "title")?,
            body: diesel::row::NamedRow::get::<
                diesel::sql_types::Nullable<diesel::sql_types::Text>,
                Option<String>,
            >(row, "body")?,
            published: diesel::row::NamedRow::get::<
                diesel::sql_types::Nullable<diesel::sql_types::Bool>,
                Option<bool>,
            >(row, "published")?,
            status: diesel::row::NamedRow::get::<
                diesel::sql_types::Nullable<diesel::sql_types::Text>,
                Option<String>,
            >(row, "status")?,
            rating: diesel::row::NamedRow::get::<
                diesel::sql_types::Nullable<diesel::sql_types::Double>,
                Option<f64>,
            >(row, "rating")?,
            views: diesel::row::NamedRow::get::<
                diesel::sql_types::Nullable<diesel::sql_types::Integer>,
                Option<i32>,
            >(row, "views")?,
            metadata: diesel::row::NamedRow::get::<
                diesel::sql_types::Nullable<diesel::sql_types::Text>,
                Option<String>,
            >(row, "metadata")?,
            created_at: diesel::row::NamedRow::get::<
                diesel::sql_types::Nullable<diesel::sql_types::Text>,
                Option<String>,
            >(row, "created_at")?,
            user_id: diesel::row::NamedRow::get::<
                diesel::sql_types::Nullable<diesel::sql_types::BigInt>,
                Option<i64>,
            >(row, "user_id")?,
        })
    }
}

impl ::fraiseql_runtime::__private::row::Row for PostRow {
    fn int_column(&self, column: usize) -> Option<i64> {
        match column {
            0 => self.id,
            9 => self.user_id,
            _ => None,
        }
    }
    fn write_column(&self, column: usize, out: &mut Vec<u8>) {
        match column {
            0 => json::id(out, self.id),
            1 => json::string(out, self.title.as_deref()),
            2 => json::string(out, self.body.as_deref()),
            3 => json::boolean(out, self.published),
            4 => json::string(out, self.status.as_deref()),
            5 => json::float(out, self.rating),
            6 => json::int(out, self.views),
            7 => json::raw_json(out, self.metadata.as_deref()),
            8 => json::string(out, self.created_at.as_deref()),
            9 => json::int(out, self.user_id),
            _ => json::null(out),
        }
    }
}

static POST_ROWS: ::fraiseql_runtime::__private::row::TableRows<PostRow> =
    ::fraiseql_runtime::__private::row::TableRows::new();

/// A row of table `comments` (type `Comment`). A column the document did not select is `None`.
#[derive(Debug, Clone, Default)]

pub struct CommentRow {
    pub id: Option<i64>,
    pub body: Option<String>,
    pub created_at: Option<String>,
    pub post_id: Option<i64>,
    pub user_id: Option<i64>,
}

impl<DB> diesel::deserialize::QueryableByName<DB> for CommentRow
where
    DB: diesel::backend::Backend,
    String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
    i64: diesel::deserialize::FromSql<diesel::sql_types::BigInt, DB>,
{
    fn build<'a>(row: &impl diesel::row::NamedRow<'a, DB>) -> diesel::deserialize::Result<Self> {
        Ok(Self {
            id: diesel::row::NamedRow::get::<
                diesel::sql_types::Nullable<diesel::sql_types::BigInt>,
                Option<i64>,
            >(row, "id")?,
            body: diesel::row::NamedRow::get::<
                diesel::sql_types::Nullable<diesel::sql_types::Text>,
                Option<String>,
            >(row, "body")?,
            created_at: diesel::row::NamedRow::get::<
                diesel::sql_types::Nullable<diesel::sql_types::Text>,
                Option<String>,
            >(row, "created_at")?,
            post_id: diesel::row::NamedRow::get::<
                diesel::sql_types::Nullable<diesel::sql_types::BigInt>,
                Option<i64>,
            >(row, "post_id")?,
            user_id: diesel::row::NamedRow::get::<
                diesel::sql_types::Nullable<diesel::sql_types::BigInt>,
                Option<i64>,
            >(row, "user_id")?,
        })
    }
}

impl ::fraiseql_runtime::__private::row::Row for CommentRow {
    fn int_column(&self, column: usize) -> Option<i64> {
        match column {
            0 => self.id,
            3 => self.post_id,
            4 => self.user_id,
            _ => None,
        }
    }
    fn write_column(&self, column: usize, out: &mut Vec<u8>) {
        match column {
            0 => json::id(out, self.id),
            1 => json::string(out, self.body.as_deref()),
            2 => json::string(out, self.created_at.as_deref()),
            3 => json::int(out, self.post_id),
            4 => json::int(out, self.user_id),
            _ => json::null(out),
        }
    }
}

static COMMENT_ROWS: ::fraiseql_runtime::__private::row::TableRows<CommentRow> =
    ::fraiseql_runtime::__private::row::TableRows::new();

/// The compiled blog schema.
pub static SCHEMA: SchemaModel = SchemaModel {
    hash: "0000000000000000000000000000000000000000000000000000000000000000",
    api_sdl: include_str!("../../../docs/api-schema-blog.graphql"),
    enums: &[EnumModel { name: "PostStatus", values: &["DRAFT", "PUBLISHED", "ARCHIVED"] }],
    default_cache: None,
    types: &[
        TypeModel {
            name: "User",
            table: "users",
            key_column: 0,
            columns: &[
                ColumnModel { name: "id", field: Some("id"), kind: ScalarKind::Id, nullable: false, max_length: None, select: Dialects { postgres: "t.\"id\" AS \"id\"", sqlite: "t.\"id\" AS \"id\"" }, ddl_type: Dialects { postgres: "BIGINT", sqlite: "INTEGER" }, cache: None },
                ColumnModel { name: "name", field: Some("name"), kind: ScalarKind::String, nullable: false, max_length: None, select: Dialects { postgres: "t.\"name\" AS \"name\"", sqlite: "t.\"name\" AS \"name\"" }, ddl_type: Dialects { postgres: "TEXT", sqlite: "TEXT" }, cache: None },
                ColumnModel { name: "email", field: Some("email"), kind: ScalarKind::String, nullable: false, max_length: Some(255), select: Dialects { postgres: "t.\"email\" AS \"email\"", sqlite: "t.\"email\" AS \"email\"" }, ddl_type: Dialects { postgres: "VARCHAR(255)", sqlite: "TEXT" }, cache: None },
                ColumnModel { name: "bio", field: Some("bio"), kind: ScalarKind::String, nullable: true, max_length: None, select: Dialects { postgres: "t.\"bio\" AS \"bio\"", sqlite: "t.\"bio\" AS \"bio\"" }, ddl_type: Dialects { postgres: "TEXT", sqlite: "TEXT" }, cache: None },
                ColumnModel { name: "created_at", field: Some("createdAt"), kind: ScalarKind::DateTime, nullable: false, max_length: None, select: Dialects { postgres: "to_char(t.\"created_at\" AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS \"created_at\"", sqlite: "t.\"created_at\" AS \"created_at\"" }, ddl_type: Dialects { postgres: "TIMESTAMPTZ", sqlite: "TEXT" }, cache: None },
            ],
            relations: &[
                RelationModel { field: "posts", target: 1, kind: RelationKind::HasMany, foreign_key: "user_id", parent_column: 0, nullable: false, sql: Dialects { postgres: "SELECT p.k AS __fraiseql_parent, {columns} FROM unnest($1::bigint[]) AS p(k) CROSS JOIN LATERAL (SELECT t.* FROM \"posts\" AS t WHERE t.\"user_id\" = p.k{where} ORDER BY {order} LIMIT {limit} OFFSET {offset}) AS t ORDER BY p.k, {order}", sqlite: "SELECT t.__fraiseql_parent AS __fraiseql_parent, {columns} FROM (SELECT t.*, t.\"user_id\" AS __fraiseql_parent, row_number() OVER (PARTITION BY t.\"user_id\" ORDER BY {order}) AS __fraiseql_rn FROM \"posts\" AS t WHERE t.\"user_id\" IN (SELECT value FROM json_each($1)){where}) AS t WHERE t.__fraiseql_rn > {offset} AND t.__fraiseql_rn <= {offset} + {limit} ORDER BY t.__fraiseql_parent, t.__fraiseql_rn" }, cache: None, route: Route::Inherit, source: SourcePos { file: "schema/blog.graphql", line: 0, column: 3 } },
                RelationModel { field: "comments", target: 2, kind: RelationKind::HasMany, foreign_key: "user_id", parent_column: 0, nullable: false, sql: Dialects { postgres: "SELECT p.k AS __fraiseql_parent, {columns} FROM unnest($1::bigint[]) AS p(k) CROSS JOIN LATERAL (SELECT t.* FROM \"comments\" AS t WHERE t.\"user_id\" = p.k{where} ORDER BY {order} LIMIT {limit} OFFSET {offset}) AS t ORDER BY p.k, {order}", sqlite: "SELECT t.__fraiseql_parent AS __fraiseql_parent, {columns} FROM (SELECT t.*, t.\"user_id\" AS __fraiseql_parent, row_number() OVER (PARTITION BY t.\"user_id\" ORDER BY {order}) AS __fraiseql_rn FROM \"comments\" AS t WHERE t.\"user_id\" IN (SELECT value FROM json_each($1)){where}) AS t WHERE t.__fraiseql_rn > {offset} AND t.__fraiseql_rn <= {offset} + {limit} ORDER BY t.__fraiseql_parent, t.__fraiseql_rn" }, cache: None, route: Route::Inherit, source: SourcePos { file: "schema/blog.graphql", line: 0, column: 3 } },
            ],
            indexes: &[
            ],
            cache: None,
            route: Route::Inherit,
            shard: None,
            seed_rows: 1000,
            rows: &USER_ROWS,
            source: SourcePos { file: "schema/blog.graphql", line: 5, column: 1 },
        },
        TypeModel {
            name: "Post",
            table: "posts",
            key_column: 0,
            columns: &[
                ColumnModel { name: "id", field: Some("id"), kind: ScalarKind::Id, nullable: false, max_length: None, select: Dialects { postgres: "t.\"id\" AS \"id\"", sqlite: "t.\"id\" AS \"id\"" }, ddl_type: Dialects { postgres: "BIGINT", sqlite: "INTEGER" }, cache: None },
                ColumnModel { name: "title", field: Some("title"), kind: ScalarKind::String, nullable: false, max_length: None, select: Dialects { postgres: "t.\"title\" AS \"title\"", sqlite: "t.\"title\" AS \"title\"" }, ddl_type: Dialects { postgres: "TEXT", sqlite: "TEXT" }, cache: None },
                ColumnModel { name: "body", field: Some("body"), kind: ScalarKind::String, nullable: false, max_length: None, select: Dialects { postgres: "t.\"body\" AS \"body\"", sqlite: "t.\"body\" AS \"body\"" }, ddl_type: Dialects { postgres: "TEXT", sqlite: "TEXT" }, cache: None },
                ColumnModel { name: "published", field: Some("published"), kind: ScalarKind::Boolean, nullable: false, max_length: None, select: Dialects { postgres: "t.\"published\" AS \"published\"", sqlite: "t.\"published\" AS \"published\"" }, ddl_type: Dialects { postgres: "BOOLEAN", sqlite: "BOOLEAN" }, cache: None },
                ColumnModel { name: "status", field: Some("status"), kind: ScalarKind::Enum(0), nullable: false, max_length: None, select: Dialects { postgres: "t.\"status\" AS \"status\"", sqlite: "t.\"status\" AS \"status\"" }, ddl_type: Dialects { postgres: "TEXT", sqlite: "TEXT" }, cache: None },
                ColumnModel { name: "rating", field: Some("rating"), kind: ScalarKind::Float, nullable: true, max_length: None, select: Dialects { postgres: "t.\"rating\" AS \"rating\"", sqlite: "t.\"rating\" AS \"rating\"" }, ddl_type: Dialects { postgres: "DOUBLE PRECISION", sqlite: "REAL" }, cache: None },
                ColumnModel { name: "views", field: Some("views"), kind: ScalarKind::Int, nullable: false, max_length: None, select: Dialects { postgres: "t.\"views\" AS \"views\"", sqlite: "t.\"views\" AS \"views\"" }, ddl_type: Dialects { postgres: "INTEGER", sqlite: "INTEGER" }, cache: None },
                ColumnModel { name: "metadata", field: Some("metadata"), kind: ScalarKind::Json, nullable: true, max_length: None, select: Dialects { postgres: "t.\"metadata\"::text AS \"metadata\"", sqlite: "t.\"metadata\" AS \"metadata\"" }, ddl_type: Dialects { postgres: "JSONB", sqlite: "TEXT" }, cache: None },
                ColumnModel { name: "created_at", field: Some("createdAt"), kind: ScalarKind::DateTime, nullable: false, max_length: None, select: Dialects { postgres: "to_char(t.\"created_at\" AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS \"created_at\"", sqlite: "t.\"created_at\" AS \"created_at\"" }, ddl_type: Dialects { postgres: "TIMESTAMPTZ", sqlite: "TEXT" }, cache: None },
                ColumnModel { name: "user_id", field: None, kind: ScalarKind::ForeignKey, nullable: false, max_length: None, select: Dialects { postgres: "t.\"user_id\" AS \"user_id\"", sqlite: "t.\"user_id\" AS \"user_id\"" }, ddl_type: Dialects { postgres: "BIGINT", sqlite: "INTEGER" }, cache: None },
            ],
            relations: &[
                RelationModel { field: "author", target: 0, kind: RelationKind::BelongsTo, foreign_key: "user_id", parent_column: 9, nullable: false, sql: Dialects { postgres: "SELECT t.\"id\" AS __fraiseql_parent, {columns} FROM \"users\" AS t WHERE t.\"id\" = ANY($1::bigint[])", sqlite: "SELECT t.\"id\" AS __fraiseql_parent, {columns} FROM \"users\" AS t WHERE t.\"id\" IN (SELECT value FROM json_each($1))" }, cache: None, route: Route::Inherit, source: SourcePos { file: "schema/blog.graphql", line: 0, column: 3 } },
                RelationModel { field: "comments", target: 2, kind: RelationKind::HasMany, foreign_key: "post_id", parent_column: 0, nullable: false, sql: Dialects { postgres: "SELECT p.k AS __fraiseql_parent, {columns} FROM unnest($1::bigint[]) AS p(k) CROSS JOIN LATERAL (SELECT t.* FROM \"comments\" AS t WHERE t.\"post_id\" = p.k{where} ORDER BY {order} LIMIT {limit} OFFSET {offset}) AS t ORDER BY p.k, {order}", sqlite: "SELECT t.__fraiseql_parent AS __fraiseql_parent, {columns} FROM (SELECT t.*, t.\"post_id\" AS __fraiseql_parent, row_number() OVER (PARTITION BY t.\"post_id\" ORDER BY {order}) AS __fraiseql_rn FROM \"comments\" AS t WHERE t.\"post_id\" IN (SELECT value FROM json_each($1)){where}) AS t WHERE t.__fraiseql_rn > {offset} AND t.__fraiseql_rn <= {offset} + {limit} ORDER BY t.__fraiseql_parent, t.__fraiseql_rn" }, cache: None, route: Route::Inherit, source: SourcePos { file: "schema/blog.graphql", line: 0, column: 3 } },
            ],
            indexes: &[
                IndexModel { name: "idx_posts_user_id", columns: &["user_id"], predicate: None },
                IndexModel { name: "idx_posts_user_id_published", columns: &["user_id", "published"], predicate: Some("published = true") },
            ],
            cache: None,
            route: Route::Inherit,
            shard: None,
            seed_rows: 10000,
            rows: &POST_ROWS,
            source: SourcePos { file: "schema/blog.graphql", line: 18, column: 1 },
        },
        TypeModel {
            name: "Comment",
            table: "comments",
            key_column: 0,
            columns: &[
                ColumnModel { name: "id", field: Some("id"), kind: ScalarKind::Id, nullable: false, max_length: None, select: Dialects { postgres: "t.\"id\" AS \"id\"", sqlite: "t.\"id\" AS \"id\"" }, ddl_type: Dialects { postgres: "BIGINT", sqlite: "INTEGER" }, cache: None },
                ColumnModel { name: "body", field: Some("body"), kind: ScalarKind::String, nullable: false, max_length: None, select: Dialects { postgres: "t.\"body\" AS \"body\"", sqlite: "t.\"body\" AS \"body\"" }, ddl_type: Dialects { postgres: "TEXT", sqlite: "TEXT" }, cache: None },
                ColumnModel { name: "created_at", field: Some("createdAt"), kind: ScalarKind::DateTime, nullable: false, max_length: None, select: Dialects { postgres: "to_char(t.\"created_at\" AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS \"created_at\"", sqlite: "t.\"created_at\" AS \"created_at\"" }, ddl_type: Dialects { postgres: "TIMESTAMPTZ", sqlite: "TEXT" }, cache: None },
                ColumnModel { name: "post_id", field: None, kind: ScalarKind::ForeignKey, nullable: false, max_length: None, select: Dialects { postgres: "t.\"post_id\" AS \"post_id\"", sqlite: "t.\"post_id\" AS \"post_id\"" }, ddl_type: Dialects { postgres: "BIGINT", sqlite: "INTEGER" }, cache: None },
                ColumnModel { name: "user_id", field: None, kind: ScalarKind::ForeignKey, nullable: false, max_length: None, select: Dialects { postgres: "t.\"user_id\" AS \"user_id\"", sqlite: "t.\"user_id\" AS \"user_id\"" }, ddl_type: Dialects { postgres: "BIGINT", sqlite: "INTEGER" }, cache: None },
            ],
            relations: &[
                RelationModel { field: "post", target: 1, kind: RelationKind::BelongsTo, foreign_key: "post_id", parent_column: 3, nullable: false, sql: Dialects { postgres: "SELECT t.\"id\" AS __fraiseql_parent, {columns} FROM \"posts\" AS t WHERE t.\"id\" = ANY($1::bigint[])", sqlite: "SELECT t.\"id\" AS __fraiseql_parent, {columns} FROM \"posts\" AS t WHERE t.\"id\" IN (SELECT value FROM json_each($1))" }, cache: None, route: Route::Inherit, source: SourcePos { file: "schema/blog.graphql", line: 0, column: 3 } },
                RelationModel { field: "author", target: 0, kind: RelationKind::BelongsTo, foreign_key: "user_id", parent_column: 4, nullable: false, sql: Dialects { postgres: "SELECT t.\"id\" AS __fraiseql_parent, {columns} FROM \"users\" AS t WHERE t.\"id\" = ANY($1::bigint[])", sqlite: "SELECT t.\"id\" AS __fraiseql_parent, {columns} FROM \"users\" AS t WHERE t.\"id\" IN (SELECT value FROM json_each($1))" }, cache: None, route: Route::Inherit, source: SourcePos { file: "schema/blog.graphql", line: 0, column: 3 } },
            ],
            indexes: &[
                IndexModel { name: "idx_comments_post_id", columns: &["post_id"], predicate: None },
                IndexModel { name: "idx_comments_user_id", columns: &["user_id"], predicate: None },
            ],
            cache: None,
            route: Route::Inherit,
            shard: None,
            seed_rows: 30000,
            rows: &COMMENT_ROWS,
            source: SourcePos { file: "schema/blog.graphql", line: 34, column: 1 },
        },
    ],
    query_fields: &[
        RootFieldModel { name: "user", target: 0, kind: RootFieldKind::Lookup, sql: Dialects { postgres: "SELECT CAST(0 AS BIGINT) AS __fraiseql_parent, {columns} FROM \"users\" AS t WHERE t.\"id\" = {key}", sqlite: "SELECT CAST(0 AS BIGINT) AS __fraiseql_parent, {columns} FROM \"users\" AS t WHERE t.\"id\" = {key}" }, cache: Some(CachePolicy { ttl_seconds: 3600, scope: CacheScope::Public }), route: Route::Inherit, source: SourcePos { file: "schema/blog.graphql", line: 53, column: 3 } },
        RootFieldModel { name: "users", target: 0, kind: RootFieldKind::List, sql: Dialects { postgres: "SELECT CAST(0 AS BIGINT) AS __fraiseql_parent, {columns} FROM \"users\" AS t WHERE 1 = 1{where} ORDER BY {order} LIMIT {limit} OFFSET {offset}", sqlite: "SELECT CAST(0 AS BIGINT) AS __fraiseql_parent, {columns} FROM \"users\" AS t WHERE 1 = 1{where} ORDER BY {order} LIMIT {limit} OFFSET {offset}" }, cache: None, route: Route::Inherit, source: SourcePos { file: "schema/blog.graphql", line: 54, column: 3 } },
        RootFieldModel { name: "post", target: 1, kind: RootFieldKind::Lookup, sql: Dialects { postgres: "SELECT CAST(0 AS BIGINT) AS __fraiseql_parent, {columns} FROM \"posts\" AS t WHERE t.\"id\" = {key}", sqlite: "SELECT CAST(0 AS BIGINT) AS __fraiseql_parent, {columns} FROM \"posts\" AS t WHERE t.\"id\" = {key}" }, cache: None, route: Route::Inherit, source: SourcePos { file: "schema/blog.graphql", line: 55, column: 3 } },
        RootFieldModel { name: "posts", target: 1, kind: RootFieldKind::List, sql: Dialects { postgres: "SELECT CAST(0 AS BIGINT) AS __fraiseql_parent, {columns} FROM \"posts\" AS t WHERE 1 = 1{where} ORDER BY {order} LIMIT {limit} OFFSET {offset}", sqlite: "SELECT CAST(0 AS BIGINT) AS __fraiseql_parent, {columns} FROM \"posts\" AS t WHERE 1 = 1{where} ORDER BY {order} LIMIT {limit} OFFSET {offset}" }, cache: None, route: Route::Replica { max_lag_ms: Some(5000) }, source: SourcePos { file: "schema/blog.graphql", line: 56, column: 3 } },
        RootFieldModel { name: "comment", target: 2, kind: RootFieldKind::Lookup, sql: Dialects { postgres: "SELECT CAST(0 AS BIGINT) AS __fraiseql_parent, {columns} FROM \"comments\" AS t WHERE t.\"id\" = {key}", sqlite: "SELECT CAST(0 AS BIGINT) AS __fraiseql_parent, {columns} FROM \"comments\" AS t WHERE t.\"id\" = {key}" }, cache: None, route: Route::Inherit, source: SourcePos { file: "schema/blog.graphql", line: 57, column: 3 } },
        RootFieldModel { name: "comments", target: 2, kind: RootFieldKind::List, sql: Dialects { postgres: "SELECT CAST(0 AS BIGINT) AS __fraiseql_parent, {columns} FROM \"comments\" AS t WHERE 1 = 1{where} ORDER BY {order} LIMIT {limit} OFFSET {offset}", sqlite: "SELECT CAST(0 AS BIGINT) AS __fraiseql_parent, {columns} FROM \"comments\" AS t WHERE 1 = 1{where} ORDER BY {order} LIMIT {limit} OFFSET {offset}" }, cache: None, route: Route::Inherit, source: SourcePos { file: "schema/blog.graphql", line: 58, column: 3 } },
    ],
};
