//! Generated mutations' statements: `@insert`, `@update` and `@delete`, built per request from
//! the field's `id` and `input` arguments. The input is checked against the table before any
//! SQL runs (IDs, string lengths, date-times, nulls in non-null columns), so a bad value is an
//! `INVALID_INPUT` error naming the field rather than a database error. Every statement returns
//! the key it wrote (as text, so one loader serves both dialects); the executor re-reads the
//! row by that key, with the document's selection, on the same connection.

use apollo_compiler::ast::Value;
use apollo_compiler::executable::Field;
use apollo_compiler::response::JsonMap;
use apollo_compiler::Node;

use super::input::{Input, VariableScope};
use super::sql::{canonical_datetime, claim_bind};
use crate::auth::Claims;
use crate::db::{Bind, NullType};
use crate::model::{ColumnModel, Dialect, ScalarKind, SchemaModel, TypeModel};

/// Which generated mutation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WriteKind {
    Insert,
    Update,
    Delete,
}

/// A planned generated mutation; its statement is built per request.
pub(crate) struct WritePlan {
    pub kind: WriteKind,
    pub type_index: usize,
    pub field: Node<Field>,
}

/// A statement ready to run.
pub(crate) struct WriteStatement {
    pub sql: String,
    pub binds: Vec<Bind>,
    /// The key named by `id` (update, delete).
    pub key: Option<i64>,
}

/// A client mistake in a write's arguments: which argument path, and what is wrong.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct WriteInputError {
    /// e.g. `input.title` or `id`.
    pub field: String,
    pub message: String,
    /// `INVALID_INPUT`, or `FORBIDDEN` for a value a row filter does not allow.
    pub code: &'static str,
}

impl WriteInputError {
    fn new(field: impl Into<String>, message: impl Into<String>) -> WriteInputError {
        WriteInputError {
            field: field.into(),
            message: message.into(),
            code: "INVALID_INPUT",
        }
    }

    fn forbidden(field: impl Into<String>, message: impl Into<String>) -> WriteInputError {
        WriteInputError {
            code: crate::auth::FORBIDDEN,
            ..WriteInputError::new(field, message)
        }
    }
}

impl WritePlan {
    /// An argument's value (variables resolved); absent when not given.
    fn argument<'s>(&'s self, name: &str, scope: VariableScope<'s>) -> Input<'s> {
        let input = self
            .field
            .specified_argument_by_name(name)
            .map(|v| Input::Ast(v))
            .unwrap_or(Input::Absent);
        scope.resolve(input).unwrap_or(Input::Absent)
    }

    /// The `id` argument of an update or delete.
    pub fn id_argument(&self, scope: VariableScope<'_>) -> Result<i64, WriteInputError> {
        key_argument(self.argument("id", scope))
    }

    /// The value an insert's input gives the ID or foreign-key column `column` (`None` when
    /// left out or null), e.g. the shard key of the row.
    pub fn input_key(
        &self,
        ty: &TypeModel,
        column: usize,
        scope: VariableScope<'_>,
    ) -> Result<Option<i64>, WriteInputError> {
        let Some(field) = ty.columns.get(column).and_then(|c| c.input) else {
            return Ok(None);
        };
        let input = self.argument("input", scope);
        let Some(value) = input
            .entries()
            .unwrap_or_default()
            .into_iter()
            .find(|(name, _)| *name == field)
            .map(|(_, v)| scope.resolve(v).unwrap_or(Input::Absent))
        else {
            return Ok(None);
        };
        if value.is_null() {
            return Ok(None);
        }
        value.as_id().map(Some).ok_or_else(|| {
            WriteInputError::new(
                format!("input.{field}"),
                format!("{} is not an ID", value.describe()),
            )
        })
    }

    /// The statement for this request's argument values. `id`: the key the server assigns to
    /// an inserted row (rows of sharded types), else the database assigns it.
    ///
    /// Row filters (`@filter`) scope the write to the caller's rows: an insert's filtered
    /// columns take the claim's value (a different value given is `FORBIDDEN`, and so is an
    /// insert without the claim); an update or delete matches only rows whose filtered columns
    /// equal the claims (another tenant's row is `NOT_FOUND`), and may not move a row out.
    pub fn statement(
        &self,
        model: &SchemaModel,
        dialect: Dialect,
        scope: VariableScope<'_>,
        id: Option<i64>,
        claims: Option<&Claims>,
    ) -> Result<WriteStatement, WriteInputError> {
        let ty = &model.types[self.type_index];
        let argument = |name: &str| self.argument(name, scope);
        let key_name = ty.columns[ty.key_column].name;
        let returning = format!(" RETURNING CAST({} AS TEXT) AS value", quote(key_name));
        let create = self.kind == WriteKind::Insert;
        let mut values = match self.kind {
            WriteKind::Delete => Vec::new(),
            _ => input_values(model, ty, argument("input"), scope, create)?,
        };
        let scoped = scope_values(ty, claims, &mut values, create)?;
        match self.kind {
            WriteKind::Insert => {
                if let (Some(id), Some(key)) = (id, ty.columns.get(ty.key_column)) {
                    values.insert(0, (key, Bind::BigInt(id)));
                }
                let mut columns = Vec::with_capacity(values.len());
                let mut placeholders = Vec::with_capacity(values.len());
                let mut binds = Vec::with_capacity(values.len());
                for (i, (column, bind)) in values.into_iter().enumerate() {
                    columns.push(quote(column.name));
                    placeholders.push(placeholder(i + 1, column.kind, dialect));
                    binds.push(bind);
                }
                let sql = format!(
                    "INSERT INTO {} ({}) VALUES ({}){returning}",
                    quote(ty.table),
                    columns.join(", "),
                    placeholders.join(", ")
                );
                Ok(WriteStatement {
                    sql,
                    binds,
                    key: id,
                })
            }
            WriteKind::Update => {
                let key = key_argument(argument("id"))?;
                let mut binds = vec![Bind::BigInt(key)];
                let sql = if values.is_empty() {
                    // Nothing to change: still answer with the row (or NOT_FOUND).
                    let only = scoped_where(&scoped, &mut binds, dialect);
                    format!(
                        "SELECT CAST({k} AS TEXT) AS value FROM {} WHERE {k} = $1{only}",
                        quote(ty.table),
                        k = quote(key_name)
                    )
                } else {
                    let mut sets = Vec::with_capacity(values.len());
                    for (column, bind) in values {
                        binds.push(bind);
                        let ph = placeholder(binds.len(), column.kind, dialect);
                        sets.push(format!("{} = {ph}", quote(column.name)));
                    }
                    let only = scoped_where(&scoped, &mut binds, dialect);
                    format!(
                        "UPDATE {} SET {} WHERE {} = $1{only}{returning}",
                        quote(ty.table),
                        sets.join(", "),
                        quote(key_name)
                    )
                };
                Ok(WriteStatement {
                    sql,
                    binds,
                    key: Some(key),
                })
            }
            WriteKind::Delete => {
                let key = key_argument(argument("id"))?;
                let mut binds = vec![Bind::BigInt(key)];
                let only = scoped_where(&scoped, &mut binds, dialect);
                let sql = format!(
                    "DELETE FROM {} WHERE {} = $1{only}{returning}",
                    quote(ty.table),
                    quote(key_name)
                );
                Ok(WriteStatement {
                    sql,
                    binds,
                    key: Some(key),
                })
            }
        }
    }
}

/// Applies the type's row filters to a write's values: returns each filtered column with the
/// caller's value (a typed `NULL` when the claim is missing, which matches no row). An insert
/// gets the claim's value for each filtered column the input left out; a value given (insert or
/// update) must equal the claim.
fn scope_values<'m>(
    ty: &'m TypeModel,
    claims: Option<&Claims>,
    values: &mut Vec<(&'m ColumnModel, Bind)>,
    create: bool,
) -> Result<Vec<(&'m ColumnModel, Bind)>, WriteInputError> {
    let mut scoped = Vec::with_capacity(ty.access.filters.len());
    for filter in ty.access.filters {
        let column = &ty.columns[filter.column];
        let own = claim_bind(claims, filter.claim, column.kind);
        let field = column.input.unwrap_or(column.name);
        let missing = matches!(own, Bind::Null(_));
        match values.iter().position(|(c, _)| std::ptr::eq(*c, column)) {
            Some(i) if values[i].1 != own || missing => {
                return Err(WriteInputError::forbidden(
                    format!("input.{field}"),
                    format!("must be the caller's own `{}` claim", filter.claim),
                ));
            }
            Some(_) => {}
            None if create && missing => {
                return Err(WriteInputError::forbidden(
                    format!("input.{field}"),
                    format!(
                        "is set from the caller's `{}` claim, which the caller does not have",
                        filter.claim
                    ),
                ));
            }
            None if create => values.push((column, own.clone())),
            None => {}
        }
        scoped.push((column, own));
    }
    Ok(scoped)
}

/// ` AND "<column>" = $n …` for the scoped columns, binds appended.
fn scoped_where(
    scoped: &[(&ColumnModel, Bind)],
    binds: &mut Vec<Bind>,
    dialect: Dialect,
) -> String {
    let mut sql = String::new();
    for (column, bind) in scoped {
        binds.push(bind.clone());
        let ph = placeholder(binds.len(), column.kind, dialect);
        sql.push_str(&format!(" AND {} = {ph}", quote(column.name)));
    }
    sql
}

fn quote(name: &str) -> String {
    format!("\"{name}\"")
}

/// `$n`, cast where PostgreSQL stores a type parameters are not bound as.
fn placeholder(n: usize, kind: ScalarKind, dialect: Dialect) -> String {
    match (dialect, kind) {
        (Dialect::Postgres, ScalarKind::DateTime) => format!("${n}::timestamptz"),
        (Dialect::Postgres, ScalarKind::Json) => format!("${n}::jsonb"),
        _ => format!("${n}"),
    }
}

fn key_argument(input: Input<'_>) -> Result<i64, WriteInputError> {
    input
        .as_id()
        .ok_or_else(|| WriteInputError::new("id", format!("{} is not an ID", input.describe())))
}

/// The columns an input writes, with their values, in table order. `create`: every writable
/// column (left-out nullable ones are NULL, a left-out `DateTime!` is the time of the write);
/// update: only the fields given.
fn input_values<'m>(
    model: &SchemaModel,
    ty: &'m TypeModel,
    input: Input<'_>,
    scope: VariableScope<'_>,
    create: bool,
) -> Result<Vec<(&'m ColumnModel, Bind)>, WriteInputError> {
    let entries = input.entries().unwrap_or_default();
    let mut values = Vec::new();
    for (name, _) in &entries {
        if !ty.columns.iter().any(|c| c.input == Some(*name)) {
            return Err(WriteInputError::new(
                format!("input.{name}"),
                format!("{} has no input field `{name}`", ty.name),
            ));
        }
    }
    for (index, column) in ty.columns.iter().enumerate() {
        let Some(field) = column.input else { continue };
        let path = format!("input.{field}");
        let given = entries
            .iter()
            .find(|(name, _)| *name == field)
            .map(|(_, v)| scope.resolve(*v).unwrap_or(Input::Absent));
        let bind = match given {
            None if !create => continue,
            // A row-filtered column left out takes the caller's claim (`scope_values`).
            None | Some(Input::Absent)
                if create && ty.access.filters.iter().any(|f| f.column == index) =>
            {
                continue
            }
            None | Some(Input::Absent) if create => default_value(column, &path)?,
            Some(value) if value.is_null() => {
                if column.nullable {
                    Bind::Null(null_type(column.kind))
                } else {
                    return Err(WriteInputError::new(
                        path,
                        "cannot be null: the field is non-null",
                    ));
                }
            }
            Some(value) => to_value(model, column, value, scope, &path)?,
            None => continue,
        };
        values.push((column, bind));
    }
    Ok(values)
}

/// The value of a column a create input left out.
fn default_value(column: &ColumnModel, path: &str) -> Result<Bind, WriteInputError> {
    if column.nullable {
        return Ok(Bind::Null(null_type(column.kind)));
    }
    if column.kind == ScalarKind::DateTime {
        return Ok(Bind::Text(
            chrono::Utc::now()
                .format("%Y-%m-%dT%H:%M:%S%.3fZ")
                .to_string(),
        ));
    }
    Err(WriteInputError::new(path, "a value is required"))
}

fn null_type(kind: ScalarKind) -> NullType {
    match kind {
        ScalarKind::Id | ScalarKind::ForeignKey => NullType::BigInt,
        ScalarKind::Int => NullType::Integer,
        ScalarKind::Float => NullType::Double,
        ScalarKind::Boolean => NullType::Bool,
        ScalarKind::String | ScalarKind::DateTime | ScalarKind::Json | ScalarKind::Enum(_) => {
            NullType::Text
        }
    }
}

/// A given, non-null value as the column stores it.
fn to_value(
    model: &SchemaModel,
    column: &ColumnModel,
    value: Input<'_>,
    scope: VariableScope<'_>,
    path: &str,
) -> Result<Bind, WriteInputError> {
    let wrong =
        |what: &str| WriteInputError::new(path, format!("{} is not {what}", value.describe()));
    Ok(match column.kind {
        ScalarKind::Id | ScalarKind::ForeignKey => {
            Bind::BigInt(value.as_id().ok_or_else(|| wrong("an ID"))?)
        }
        ScalarKind::Int => Bind::Integer(
            value
                .as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .ok_or_else(|| wrong("an Int"))?,
        ),
        ScalarKind::Float => Bind::Double(value.as_f64().ok_or_else(|| wrong("a Float"))?),
        ScalarKind::Boolean => Bind::Bool(value.as_bool().ok_or_else(|| wrong("a Boolean"))?),
        ScalarKind::String => {
            let text = value.as_str().ok_or_else(|| wrong("a String"))?;
            if let Some(max) = column.max_length {
                let length = text.chars().count();
                if length > max as usize {
                    return Err(WriteInputError::new(
                        path,
                        format!("is {length} characters long; at most {max} are allowed"),
                    ));
                }
            }
            Bind::Text(text.to_owned())
        }
        ScalarKind::DateTime => {
            let text = value.as_str().ok_or_else(|| wrong("a DateTime"))?;
            Bind::Text(canonical_datetime(text).map_err(|m| WriteInputError::new(path, m))?)
        }
        ScalarKind::Enum(index) => {
            let text = value.as_str().ok_or_else(|| wrong("an enum value"))?;
            let values = model.enums.get(index).map_or(&[][..], |e| e.values);
            if !values.contains(&text) {
                return Err(WriteInputError::new(
                    path,
                    format!("{text} is not one of {}", values.join(", ")),
                ));
            }
            Bind::Text(text.to_owned())
        }
        ScalarKind::Json => Bind::Text(json_text(value, scope)),
    })
}

/// A JSON scalar's text, whether it came as a variable or as a literal in the document.
fn json_text(value: Input<'_>, scope: VariableScope<'_>) -> String {
    match value {
        Input::Json(v) => serde_json::to_string(v).unwrap_or_else(|_| "null".into()),
        Input::Ast(v) => ast_to_json(v, scope.values).to_string(),
        Input::Absent => "null".into(),
    }
}

/// A GraphQL literal as JSON (variables replaced by their values; enum values as strings).
pub(crate) fn ast_to_json(value: &Value, variables: Option<&JsonMap>) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        Value::Null => J::Null,
        Value::Variable(name) => variables
            .and_then(|vars| vars.get(name.as_str()))
            .and_then(|v| serde_json::to_value(v).ok())
            .unwrap_or(J::Null),
        Value::Enum(e) => J::String(e.to_string()),
        Value::String(s) => J::String(s.clone()),
        Value::Boolean(b) => J::Bool(*b),
        Value::Int(i) => match i.as_str().parse::<i64>() {
            Ok(n) => J::from(n),
            Err(_) => i.try_to_f64().map(J::from).unwrap_or(J::Null),
        },
        Value::Float(f) => f.try_to_f64().map(J::from).unwrap_or(J::Null),
        Value::List(items) => J::Array(items.iter().map(|v| ast_to_json(v, variables)).collect()),
        Value::Object(fields) => J::Object(
            fields
                .iter()
                .map(|(k, v)| (k.to_string(), ast_to_json(v, variables)))
                .collect(),
        ),
    }
}
