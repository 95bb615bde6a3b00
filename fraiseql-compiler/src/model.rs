//! The validated schema as the compiler sees it: tables, columns, relations and root fields,
//! each with its source position. Code generation and the API SDL printer read only this;
//! it mirrors `fraiseql_runtime::model` plus what printing needs (descriptions, field order,
//! the GraphQL types as written).

/// A position in the schema sources.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// Path relative to the crate, e.g. `schema/blog.graphql`.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

/// A trusted document (`schema/operations/<file>.graphql`), validated against the API schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation {
    /// The operation's name, which clients send as `documentId`.
    pub id: String,
    /// SHA-256 (lowercase hex) of `document`.
    pub hash: String,
    /// Query or mutation.
    pub kind: OperationKind,
    /// The file's text, exactly as read.
    pub document: String,
    /// Where the operation's definition starts.
    pub source: Source,
}

/// What a trusted document does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperationKind {
    Query,
    Mutation,
}

/// The whole validated schema.
#[derive(Clone, Debug)]
pub struct Model {
    /// Source file paths, sorted (as they were read).
    pub files: Vec<String>,
    /// SHA-256 hex of the sources (see [`crate::schema_hash`]).
    pub hash: String,
    /// Table types, in declaration order.
    pub types: Vec<TableType>,
    /// Enums, in declaration order.
    pub enums: Vec<EnumType>,
    /// Root `Query` fields, in declaration order.
    pub query: Vec<RootField>,
    /// Root `Mutation` fields, in declaration order (empty without `type Mutation`).
    pub mutations: Vec<MutationField>,
    /// `schema @cache(maxTtl:, scope:)`.
    pub default_cache: Option<Cache>,
}

/// An object type backed by a table.
#[derive(Clone, Debug)]
pub struct TableType {
    pub name: String,
    pub description: Option<String>,
    pub table: String,
    /// Index into `columns` of the `id: ID!` column.
    pub key_column: usize,
    /// Field columns in declaration order, then hidden foreign-key columns.
    pub columns: Vec<Column>,
    pub relations: Vec<Relation>,
    /// Automatic foreign-key indexes first, then `@column(unique: true)` ones, then `@index`
    /// ones.
    pub indexes: Vec<Index>,
    pub cache: Option<Cache>,
    pub route: Route,
    pub shard: Option<Shard>,
    pub seed_rows: u32,
    /// `@auth`, field `@auth`s and `@filter`s.
    pub access: Access,
    /// The GraphQL fields in declaration order, for the API SDL.
    pub fields: Vec<FieldRef>,
    pub source: Source,
}

/// Who may read a table type (see `fraiseql_runtime::model::Access`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Access {
    /// `@auth(requires:)` on the type (`"authenticated"` when `requires` is left out).
    pub requires: Option<String>,
    /// `@auth` on fields: (GraphQL field name, requirement), in declaration order.
    pub fields: Vec<(String, String)>,
    /// `@filter(column:, claim:)`s, in declaration order.
    pub filters: Vec<RowFilter>,
}

/// The `@auth` requirement of a token with no particular role.
pub const AUTHENTICATED: &str = "authenticated";

/// `@filter(column:, claim:)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowFilter {
    /// Index into the type's columns.
    pub column: usize,
    pub claim: String,
}

/// A GraphQL field of a table type: a column or a relation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldRef {
    Column(usize),
    Relation(usize),
}

/// The value kind of a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Id,
    Int,
    Float,
    String,
    Boolean,
    DateTime,
    Json,
    /// Index into [`Model::enums`].
    Enum(usize),
    /// A foreign-key column no field exposes.
    ForeignKey,
}

/// One column of a table.
#[derive(Clone, Debug)]
pub struct Column {
    pub name: String,
    /// GraphQL field name; `None` for a hidden foreign-key column.
    pub field: Option<String>,
    pub description: Option<String>,
    /// The GraphQL type as written, e.g. `String!` (empty for hidden columns).
    pub graphql_type: String,
    pub kind: Kind,
    pub nullable: bool,
    pub max_length: Option<u32>,
    pub cache: Option<Cache>,
}

/// Which side holds the foreign key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelationKind {
    HasMany,
    BelongsTo,
}

/// A relation field.
#[derive(Clone, Debug)]
pub struct Relation {
    pub field: String,
    pub description: Option<String>,
    /// The GraphQL type as written, e.g. `[Post!]!`.
    pub graphql_type: String,
    /// Index into [`Model::types`].
    pub target: usize,
    pub kind: RelationKind,
    pub foreign_key: String,
    /// Key column (has-many) or foreign-key column (belongs-to) of this type.
    pub parent_column: usize,
    pub nullable: bool,
    pub cache: Option<Cache>,
    pub route: Route,
    pub source: Source,
}

/// An index `migrate` creates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Index {
    pub name: String,
    pub columns: Vec<String>,
    pub predicate: Option<String>,
    /// `CREATE UNIQUE INDEX` (from `@column(unique: true)`).
    pub unique: bool,
}

/// `@cache(ttl:, scope:)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cache {
    pub ttl_seconds: u32,
    pub scope: CacheScope,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheScope {
    Public,
    Private,
}

/// `@primary` / `@replica(maxLag:)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    Inherit,
    Primary,
    Replica { max_lag_ms: Option<u32> },
}

/// `@shard(key:, strategy:)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// Index into the type's columns.
    pub column: usize,
    pub strategy: ShardStrategy,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShardStrategy {
    Hash,
    Range,
}

/// An enum type.
#[derive(Clone, Debug)]
pub struct EnumType {
    pub name: String,
    pub description: Option<String>,
    pub values: Vec<EnumValue>,
}

#[derive(Clone, Debug)]
pub struct EnumValue {
    pub name: String,
    pub description: Option<String>,
}

/// What a root field returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RootKind {
    Lookup,
    List,
    /// `@resolver`: a `#[fraiseql::query]` function.
    Custom(Returns),
}

/// The shape of a custom resolver's result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Returns {
    /// `T!`
    One,
    /// `T`
    Optional,
    /// `[T!]!`
    List,
}

/// An argument of a custom (`@resolver`) field: a scalar or enum, maybe nullable, maybe a
/// list of them.
#[derive(Clone, Debug)]
pub struct Argument {
    pub name: String,
    pub description: Option<String>,
    /// The GraphQL type as written, e.g. `[ID!]` or `String!`.
    pub graphql_type: String,
    /// The scalar or enum at the bottom of the type.
    pub base: Kind,
    /// Whether the argument itself may be null / left out.
    pub nullable: bool,
    /// `Some(item_nullable)` for a list argument.
    pub list: Option<bool>,
    pub source: Source,
}

/// What a mutation field does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MutationKind {
    /// `@insert`: `(input: Create<T>Input!): T!`
    Insert,
    /// `@update`: `(id: ID!, input: Update<T>Input!): T`
    Update,
    /// `@delete(type: "T")`: `(id: ID!): Boolean!`
    Delete,
    /// `@resolver` with `@writes(types: [...])`: a `#[fraiseql::mutation]` function.
    Custom(Returns),
}

/// A root `Mutation` field.
#[derive(Clone, Debug)]
pub struct MutationField {
    pub name: String,
    pub description: Option<String>,
    /// The GraphQL type as written.
    pub graphql_type: String,
    /// Index into [`Model::types`] of the type written (and returned, except `Delete`).
    pub target: usize,
    pub kind: MutationKind,
    /// Arguments of a custom mutation (generated ones have fixed arguments).
    pub arguments: Vec<Argument>,
    /// Indexes into [`Model::types`] of the types written.
    pub writes: Vec<usize>,
    pub source: Source,
}

/// A root `Query` field.
#[derive(Clone, Debug)]
pub struct RootField {
    pub name: String,
    pub description: Option<String>,
    /// The GraphQL type as written, e.g. `User` or `[User!]!`.
    pub graphql_type: String,
    /// Index into [`Model::types`].
    pub target: usize,
    pub kind: RootKind,
    pub cache: Option<Cache>,
    pub route: Route,
    /// Arguments of a custom field (empty for lookups and lists, whose arguments are fixed).
    pub arguments: Vec<Argument>,
    pub source: Source,
}

impl TableType {
    /// The key column's name.
    pub fn key_name(&self) -> &str {
        &self.columns[self.key_column].name
    }

    /// The column with this SQL name.
    pub fn column_named(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// The field of `Create<T>Input` / `Update<T>Input` that writes column `column`: the
    /// column's own field, or `<relation>Id` for the hidden foreign key of a many-to-one
    /// relation (`authorId` for `author: User! @relation(foreignKey: "user_id")`); none for the
    /// key, which the database assigns. The API SDL's inputs and the runtime's
    /// `ColumnModel.input` both come from here, so they cannot disagree.
    pub fn input_field(&self, column: usize) -> Option<String> {
        if column == self.key_column {
            return None;
        }
        let c = self.columns.get(column)?;
        if let Some(field) = &c.field {
            return Some(field.clone());
        }
        self.relations
            .iter()
            .find(|r| r.kind == RelationKind::BelongsTo && r.foreign_key == c.name)
            .map(|r| format!("{}Id", r.field))
    }
}
