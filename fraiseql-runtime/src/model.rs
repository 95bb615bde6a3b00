//! The compiled schema model: what `fraiseql-compiler` emits as `static` constants and the
//! runtime plans and executes against. The runtime never reads `.graphql` text of the user's
//! schema; everything it needs (tables, columns, relations, routes, cache policies and the SQL
//! fragments planned at build time) is here.
//!
//! SQL fragments are templates with named holes that the planner fills once per document
//! (the plan cache keeps the result):
//! - `{columns}`: the select list, built from [`ColumnModel::select`] (a column the document does
//!   not need is selected as `NULL`, so the typed row keeps a fixed shape);
//! - `{where}`: empty, or ` AND (<predicate>)` with bound parameters;
//! - `{order}`: `ORDER BY` items (always ending with the key for a stable order);
//! - `{limit}`, `{offset}`, `{key}`: bound-parameter placeholders (`$n`).
//!
//! Placeholders are `$1, $2, …` in order of first appearance on both dialects: PostgreSQL reads
//! them as positional parameters, SQLite as named parameters numbered by first appearance.

use crate::row::RowLoader;

/// The whole compiled schema.
pub struct SchemaModel {
    /// SHA-256 (hex) of the schema sources, so instances running different schemas are visible.
    pub hash: &'static str,
    /// The API schema as served (SDL, with the generated arguments and input types, without
    /// FraiseQL's own directives): validation, introspection and `print-schema` use it.
    pub api_sdl: &'static str,
    /// Object types backed by tables.
    pub types: &'static [TypeModel],
    /// Enum types (stored as text).
    pub enums: &'static [EnumModel],
    /// Root `Query` fields.
    pub query_fields: &'static [RootFieldModel],
    /// Root `Mutation` fields (empty when the schema has no `type Mutation`).
    pub mutation_fields: &'static [MutationFieldModel],
    /// Schema-wide default cache policy (`schema @cache(maxTtl:, scope:)`), if any.
    pub default_cache: Option<CachePolicy>,
    /// Trusted documents (`schema/operations/*.graphql`), validated against the API schema at
    /// build time; the server plans each once at startup (`persisted/`).
    pub operations: &'static [TrustedOperation],
}

/// One trusted document: one named operation, addressable by its name or its hash.
pub struct TrustedOperation {
    /// The operation's name: `{"documentId": "<id>"}`.
    pub id: &'static str,
    /// SHA-256 (lowercase hex) of `document`: `{"documentId": "sha256:<hex>"}` or Apollo's
    /// `extensions.persistedQuery.sha256Hash`.
    pub sha256: &'static str,
    /// Query or mutation.
    pub kind: OperationKind,
    /// The document text, exactly as in its file.
    pub document: &'static str,
    /// Where the operation starts in `schema/operations/`.
    pub source: SourcePos,
}

/// What a trusted document does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperationKind {
    /// A `query`.
    Query,
    /// A `mutation` (never over GET).
    Mutation,
}

/// An object type mapped to a table.
pub struct TypeModel {
    /// GraphQL type name, e.g. `User`.
    pub name: &'static str,
    /// Table name, e.g. `users`.
    pub table: &'static str,
    /// Index into `columns` of the primary key (the `ID!` field; a 64-bit integer column).
    pub key_column: usize,
    /// Every column of the table, in the order of the generated row struct's fields. Includes
    /// foreign-key columns that only relations use (`field: None`).
    pub columns: &'static [ColumnModel],
    /// Relation fields (one-to-many and many-to-one).
    pub relations: &'static [RelationModel],
    /// Indexes `migrate` creates: one per foreign key a relation uses, plus each `@index`.
    pub indexes: &'static [IndexModel],
    /// `@cache` on the type, if any.
    pub cache: Option<CachePolicy>,
    /// `@replica` / `@primary` on the type.
    pub route: Route,
    /// `@shard(key:, strategy:)` on the type, if any.
    pub shard: Option<ShardKey>,
    /// Demo rows `seed` inserts (`@seed(rows:)`; 0 when absent).
    pub seed_rows: u32,
    /// `@auth` on the type and its fields, and its `@filter` row filters.
    pub access: Access,
    /// The generated typed row loader for this table.
    pub rows: &'static dyn RowLoader,
    /// Rows by key: `$1` is the array of keys (a JSON array on SQLite), each row's
    /// `__fraiseql_parent` is its own key. Mutations re-read what they wrote with it, and custom
    /// resolvers' rows are completed with it.
    pub by_keys: Dialects,
    /// Position of the type's definition in the schema sources.
    pub source: SourcePos,
}

/// Who may read a type: `@auth` on it and on its fields, and the `@filter`s that bind its rows
/// to the caller's claims.
pub struct Access {
    /// `@auth(requires:)` on the type: every statement reading it (root, relation, re-read)
    /// needs it.
    pub requires: Option<&'static str>,
    /// `@auth(requires:)` on fields of the type (columns and relations).
    pub fields: &'static [FieldAuth],
    /// `@filter(column:, claim:)`: every statement reading the type gets
    /// `AND t."<column>" = $n`, `$n` bound to the claim's value (no claim: no rows).
    pub filters: &'static [RowFilter],
}

impl Access {
    /// No `@auth`, no `@filter`.
    pub const OPEN: Access = Access {
        requires: None,
        fields: &[],
        filters: &[],
    };

    /// The requirement of a field (`@auth` on it), if any.
    pub fn field(&self, name: &str) -> Option<&'static str> {
        self.fields
            .iter()
            .find(|f| f.field == name)
            .map(|f| f.requires)
    }
}

/// The requirement that needs only a verified token (`@auth` without `requires`, or
/// `@auth(requires: "authenticated")`); any other value is a role the token's `roles` claim
/// must name.
pub const AUTHENTICATED: &str = "authenticated";

/// `@auth(requires:)` on one field.
pub struct FieldAuth {
    /// GraphQL field name.
    pub field: &'static str,
    /// A role, or [`AUTHENTICATED`].
    pub requires: &'static str,
}

/// `@filter(column:, claim:)` on a type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowFilter {
    /// Index into the type's columns.
    pub column: usize,
    /// The claim whose value the column must equal.
    pub claim: &'static str,
}

/// One column of a table.
pub struct ColumnModel {
    /// Column name in the database, e.g. `created_at`.
    pub name: &'static str,
    /// GraphQL field name, e.g. `createdAt`; `None` for a foreign-key column no field exposes.
    pub field: Option<&'static str>,
    /// Value kind, which fixes the database type, the row field type and the JSON form.
    pub kind: ScalarKind,
    /// Whether NULL is allowed (the GraphQL type is nullable).
    pub nullable: bool,
    /// `@column(maxLength:)` or the `String` default bound, checked on input by later issues.
    pub max_length: Option<u32>,
    /// Select-list expression per dialect, reading from alias `t` and aliased to [`Self::name`],
    /// e.g. `to_char(t."created_at" AT TIME ZONE 'UTC', …) AS "created_at"` on PostgreSQL.
    pub select: Dialects,
    /// Column type in DDL per dialect, e.g. `TIMESTAMPTZ` / `TEXT`.
    pub ddl_type: Dialects,
    /// Cache policy of the field (`@cache` on the field), if any.
    pub cache: Option<CachePolicy>,
    /// The field of the generated `Create<T>Input` / `Update<T>Input` that writes this column:
    /// the GraphQL field name, or `<relation>Id` for a foreign-key column (`authorId` for
    /// `author: User! @relation(foreignKey: "user_id")`); `None` for the key, which the
    /// database assigns.
    pub input: Option<&'static str>,
}

/// A relation field.
pub struct RelationModel {
    /// GraphQL field name, e.g. `posts`.
    pub field: &'static str,
    /// Index into [`SchemaModel::types`] of the related type.
    pub target: usize,
    /// One-to-many (a list) or many-to-one (a single object).
    pub kind: RelationKind,
    /// The foreign-key column, as written in `@relation(foreignKey:)`.
    pub foreign_key: &'static str,
    /// Index into this type's columns of the value the child statement is keyed by: the key
    /// column for [`RelationKind::HasMany`], the foreign-key column for
    /// [`RelationKind::BelongsTo`].
    pub parent_column: usize,
    /// Whether the field may be null (many-to-one only; lists are never null).
    pub nullable: bool,
    /// The batched statement template per dialect (see the module docs for its holes).
    pub sql: Dialects,
    /// Cache policy of the field, if any.
    pub cache: Option<CachePolicy>,
    /// `@replica` / `@primary` on the field.
    pub route: Route,
    /// Position of the field in the schema sources.
    pub source: SourcePos,
}

/// Which side holds the foreign key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelationKind {
    /// `User.posts: [Post!]!` with `posts.user_id`: children keyed by the parent's key.
    HasMany,
    /// `Post.author: User!` with `posts.user_id`: the parent holds the key of its one child.
    BelongsTo,
}

/// A root `Query` field.
pub struct RootFieldModel {
    /// GraphQL field name, e.g. `users` or `user`.
    pub name: &'static str,
    /// Index into [`SchemaModel::types`] of the returned type.
    pub target: usize,
    /// A lookup by key or a list.
    pub kind: RootFieldKind,
    /// The statement template per dialect (see the module docs for its holes).
    pub sql: Dialects,
    /// `@cache` on the field, if any.
    pub cache: Option<CachePolicy>,
    /// `@replica` / `@primary` on the field.
    pub route: Route,
    /// The Rust function of a `@resolver` field (`RootFieldKind::Custom`); `None` otherwise.
    pub resolver: Option<ResolverFn>,
    /// Position of the field in the schema sources.
    pub source: SourcePos,
}

/// What a root field returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RootFieldKind {
    /// `user(id: ID!): User` — at most one row, by primary key (argument `id`).
    Lookup,
    /// `users: [User!]!` — a list with the generated `limit`, `offset`, `after`, `where` and
    /// `orderBy` arguments.
    List,
    /// `@resolver`: a `#[fraiseql::query]` function returns the rows; `sql` is empty.
    Custom(Returns),
}

/// The shape a custom resolver's result has in the schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Returns {
    /// `User!`: exactly one row.
    One,
    /// `User`: at most one row.
    Optional,
    /// `[User!]!`: any number of rows.
    List,
}

/// A root `Mutation` field.
pub struct MutationFieldModel {
    /// GraphQL field name, e.g. `createPost`.
    pub name: &'static str,
    /// Index into [`SchemaModel::types`] of the type written (and returned, except `Delete`).
    pub target: usize,
    /// What the field does.
    pub kind: MutationKind,
    /// The Rust function of a `@resolver` mutation; `None` otherwise.
    pub resolver: Option<ResolverFn>,
    /// Indexes into [`SchemaModel::types`] of every type the field writes (the target for
    /// generated mutations, `@writes(types:)` for custom ones), for cache invalidation.
    pub writes: &'static [usize],
    /// Position of the field in the schema sources.
    pub source: SourcePos,
}

/// What a mutation field does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MutationKind {
    /// `createPost(input: CreatePostInput!): Post! @insert`.
    Insert,
    /// `updatePost(id: ID!, input: UpdatePostInput!): Post @update`: only the input fields
    /// given are written.
    Update,
    /// `deletePost(id: ID!): Boolean! @delete(type: "Post")`.
    Delete,
    /// `@resolver`: a `#[fraiseql::mutation]` function, run in the mutation's transaction.
    Custom(Returns),
}

/// A custom resolver as the generated schema stores it (see [`crate::resolver`]).
pub type ResolverFn = crate::resolver::ResolverFn;

/// One string per SQL dialect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dialects {
    /// PostgreSQL.
    pub postgres: &'static str,
    /// SQLite.
    pub sqlite: &'static str,
}

/// The value kind of a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalarKind {
    /// `ID`: a 64-bit integer in the database, a string in JSON.
    Id,
    /// `Int`: 32-bit integer.
    Int,
    /// `Float`: double precision.
    Float,
    /// `String`: text.
    String,
    /// `Boolean`.
    Boolean,
    /// `DateTime`: `timestamptz` on PostgreSQL, canonical RFC 3339 text
    /// (`YYYY-MM-DDTHH:MM:SS.mmmZ`) on SQLite; always that text in JSON.
    DateTime,
    /// `JSON`: `jsonb` on PostgreSQL, text on SQLite; embedded as-is in the response.
    Json,
    /// An enum (index into [`SchemaModel::enums`]), stored as its value's name.
    Enum(usize),
    /// A foreign-key column no field exposes: a 64-bit integer.
    ForeignKey,
}

/// A GraphQL enum type.
pub struct EnumModel {
    /// Type name.
    pub name: &'static str,
    /// Values, in declaration order.
    pub values: &'static [&'static str],
}

/// An index `migrate` creates.
pub struct IndexModel {
    /// Index name, e.g. `idx_posts_user_id`.
    pub name: &'static str,
    /// Column names, in order.
    pub columns: &'static [&'static str],
    /// Partial-index predicate (`@index(where:)`), verbatim SQL.
    pub predicate: Option<&'static str>,
    /// A unique index (`@column(unique: true)`): a duplicate write fails with `CONFLICT`.
    pub unique: bool,
}

/// How long and for whom a result may be cached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CachePolicy {
    /// Time to live in seconds.
    pub ttl_seconds: u32,
    /// Who may share the cached result.
    pub scope: CacheScope,
}

/// Cache scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheScope {
    /// Shared by every caller.
    Public,
    /// Per caller.
    Private,
}

/// Which database a read goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// Nothing declared: follows the enclosing field (root fields: the primary, unless
    /// configured to read from replicas).
    Inherit,
    /// `@primary`: always the primary.
    Primary,
    /// `@replica(maxLag:)`: a healthy replica within the lag bound (milliseconds), if any.
    Replica {
        /// Most replication lag accepted, in milliseconds (`None`: the configured default).
        max_lag_ms: Option<u32>,
    },
}

/// `@shard(key:, strategy:)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShardKey {
    /// Index into the type's columns of the shard key.
    pub column: usize,
    /// How keys map to shards.
    pub strategy: ShardStrategy,
}

/// Shard strategies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShardStrategy {
    /// A stable hash of the key, modulo the shard count.
    Hash,
    /// Configured key ranges.
    Range,
}

/// A position in the schema sources, for messages and `explain`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SourcePos {
    /// Path relative to the crate, e.g. `schema/blog.graphql`.
    pub file: &'static str,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

impl SchemaModel {
    /// The type with this GraphQL name.
    pub fn type_named(&self, name: &str) -> Option<(usize, &TypeModel)> {
        self.types.iter().enumerate().find(|(_, t)| t.name == name)
    }

    /// The root field with this name.
    pub fn root_field(&self, name: &str) -> Option<&RootFieldModel> {
        self.query_fields.iter().find(|f| f.name == name)
    }

    /// The mutation field with this name.
    pub fn mutation_field(&self, name: &str) -> Option<&MutationFieldModel> {
        self.mutation_fields.iter().find(|f| f.name == name)
    }
}

impl TypeModel {
    /// The column behind the scalar field with this GraphQL name.
    pub fn column_for_field(&self, field: &str) -> Option<(usize, &ColumnModel)> {
        self.columns
            .iter()
            .enumerate()
            .find(|(_, c)| c.field == Some(field))
    }

    /// The relation field with this GraphQL name.
    pub fn relation(&self, field: &str) -> Option<&RelationModel> {
        self.relations.iter().find(|r| r.field == field)
    }
}

impl Dialects {
    /// The string for one dialect.
    pub fn get(&self, dialect: crate::model::Dialect) -> &'static str {
        match dialect {
            Dialect::Postgres => self.postgres,
            Dialect::Sqlite => self.sqlite,
        }
    }
}

/// The SQL dialects FraiseQL plans for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// PostgreSQL (production).
    Postgres,
    /// SQLite (the embedded default).
    Sqlite,
}
