//! Fills a statement template from the compiled model with the parts a field's arguments ask
//! for: the `where` predicate, the `orderBy` keys (always ending with the key, so order and
//! keyset cursors are total), the keyset predicate of `after`, and `limit` / `offset` / `key`
//! placeholders. Values are never written into SQL: each becomes a bound parameter.

use apollo_compiler::executable::Field;
use apollo_compiler::response::JsonMap;
use apollo_compiler::Name;

use super::cursor;
use super::input::{Input, PlanInputError, VariableScope};
use crate::auth::Claims;
use crate::db::{Bind, NullType};
use crate::model::{Dialect, ScalarKind, TypeModel};

/// Where a bound parameter's value comes from.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum BindSource {
    /// Known at plan time.
    Const(Bind),
    /// A non-null variable in a scalar position.
    Var { name: Name, kind: ScalarKind },
    /// A non-null list variable (`in: $ids`).
    VarList { name: Name, kind: ScalarKind },
    /// `limit: $n`, and the limit when it is null (the page size, or none).
    Limit(Name, i64),
    /// `offset: $n` (null: 0).
    Offset(Name),
    /// A row filter's claim (`@filter(column:, claim:)`), read from the request's verified
    /// token; no token or no such claim binds `NULL`, which no row equals.
    Claim {
        claim: &'static str,
        kind: ScalarKind,
    },
}

/// One ordering key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OrderKey {
    pub column: usize,
    pub descending: bool,
}

/// A statement ready to run (but for deferred binds).
#[derive(Clone, Debug)]
pub(crate) struct BuiltStatement {
    pub sql: String,
    pub binds: Vec<BindSource>,
    pub order: Vec<OrderKey>,
    /// Positions in `binds` of the `limit`, `offset` and `id` values, for a statement sent to
    /// several shards (each returns `offset + limit` rows from offset 0; the merge skips and
    /// takes) and for a lookup routed by its key.
    pub limit_bind: Option<usize>,
    pub offset_bind: Option<usize>,
    pub key_bind: Option<usize>,
}

/// What a statement is built from.
pub(crate) struct StatementSpec<'m> {
    pub ty: &'m TypeModel,
    pub template: &'static str,
    /// The `{columns}` text (a select list fixed by the selection).
    pub columns_sql: &'m str,
    /// First placeholder number this statement may use (`$1` is the parent keys in relation
    /// templates).
    pub first_param: usize,
    pub dialect: Dialect,
    /// The `limit` of a list queried without one.
    pub default_limit: i64,
}

/// "No limit", as a bindable number that cannot overflow `offset + limit` on SQLite.
pub(crate) const NO_LIMIT: i64 = i64::MAX / 4;

/// Builds the statement for `field` (its arguments) from `spec`.
pub(crate) fn build_statement(
    spec: &StatementSpec<'_>,
    field: &Field,
    scope: VariableScope<'_>,
) -> Result<BuiltStatement, PlanInputError> {
    let arg = |name: &str| {
        field
            .specified_argument_by_name(name)
            .map(|v| Input::Ast(v))
            .unwrap_or(Input::Absent)
    };
    let mut w = Writer {
        spec,
        scope,
        binds: Vec::new(),
        next: spec.first_param,
    };
    let order = w.order_keys(arg("orderBy"))?;
    let order_sql = w.order_sql(&order);
    let mut sql = String::with_capacity(spec.template.len() + spec.columns_sql.len() + 64);
    let mut limit_ph: Option<String> = None;
    let mut offset_ph: Option<String> = None;
    let (mut limit_bind, mut offset_bind, mut key_bind) = (None, None, None);
    let mut rest = spec.template;
    // Templates without a `{where}` hole (lookups, by-key reads, many-to-one batches) end in
    // their WHERE clause: the row filters are appended there instead.
    let mut filtered = spec.ty.access.filters.is_empty();
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        sql.push_str(&rest[..start]);
        let hole = &rest[start + 1..start + len];
        rest = &rest[start + len + 1..];
        match hole {
            "columns" => sql.push_str(spec.columns_sql),
            "order" => sql.push_str(&order_sql),
            "where" => {
                let mut parts = Vec::new();
                // Before the client's predicates: placeholders are numbered in order of
                // appearance, and the filter must hold whatever the client asks.
                if !filtered {
                    parts.push(w.row_filters());
                    filtered = true;
                }
                if let Some(p) = w.where_expr(arg("where"))? {
                    parts.push(p);
                }
                if let Some(p) = w.keyset(arg("after"), &order)? {
                    parts.push(p);
                }
                if !parts.is_empty() {
                    sql.push_str(" AND (");
                    sql.push_str(&parts.join(") AND ("));
                    sql.push(')');
                }
            }
            "limit" => {
                let ph = match &limit_ph {
                    Some(ph) => ph.clone(),
                    None => {
                        let source = w.count_source(arg("limit"), "limit")?;
                        limit_bind = Some(w.binds.len());
                        let ph = w.push(source);
                        limit_ph = Some(ph.clone());
                        ph
                    }
                };
                sql.push_str(&ph);
            }
            "offset" => {
                let ph = match &offset_ph {
                    Some(ph) => ph.clone(),
                    None => {
                        let source = w.count_source(arg("offset"), "offset")?;
                        offset_bind = Some(w.binds.len());
                        let ph = w.push(source);
                        offset_ph = Some(ph.clone());
                        ph
                    }
                };
                sql.push_str(&ph);
            }
            "key" => {
                let kind = spec.ty.columns[spec.ty.key_column].kind;
                let source = w
                    .scalar_source(arg("id"), kind)
                    .map_err(|e| e.in_context("argument `id`"))?;
                key_bind = Some(w.binds.len());
                let ph = w.push(source);
                sql.push_str(&ph);
            }
            other => {
                // Not a hole (a literal brace in SQL text): keep it verbatim.
                sql.push('{');
                sql.push_str(other);
                sql.push('}');
            }
        }
    }
    sql.push_str(rest);
    if !filtered {
        sql.push_str(" AND ");
        sql.push_str(&w.row_filters());
    }
    Ok(BuiltStatement {
        sql,
        binds: w.binds,
        order,
        limit_bind,
        offset_bind,
        key_bind,
    })
}

struct Writer<'s, 'm> {
    spec: &'s StatementSpec<'m>,
    scope: VariableScope<'s>,
    binds: Vec<BindSource>,
    next: usize,
}

impl Writer<'_, '_> {
    /// `t."<column>" = $n AND …`, one per `@filter` of the type, each bound to its claim.
    fn row_filters(&mut self) -> String {
        let filters = self.spec.ty.access.filters;
        let mut parts = Vec::with_capacity(filters.len());
        for filter in filters {
            let kind = self.spec.ty.columns[filter.column].kind;
            let column = self.column_ref(filter.column);
            let ph = self.push(BindSource::Claim {
                claim: filter.claim,
                kind,
            });
            parts.push(format!("{column} = {ph}"));
        }
        parts.join(" AND ")
    }

    fn push(&mut self, source: BindSource) -> String {
        self.binds.push(source);
        let ph = format!("${}", self.next);
        self.next += 1;
        ph
    }

    fn column_ref(&self, column: usize) -> String {
        format!("t.\"{}\"", self.spec.ty.columns[column].name)
    }

    /// The column as an ordering compares it. Rows of a sharded type may be merged from
    /// several shards by the server, which compares text byte by byte; PostgreSQL compares it by
    /// the database's collation unless told `COLLATE "C"` (byte order, as SQLite's default).
    /// So sharded types order text that way everywhere (with or without shards configured), and
    /// the keyset predicates of `after` compare the same way as the ordering.
    fn sort_ref(&self, column: usize) -> String {
        let col = self.column_ref(column);
        let text = matches!(
            self.spec.ty.columns[column].kind,
            ScalarKind::String | ScalarKind::Enum(_)
        );
        if text && self.spec.ty.shard.is_some() && self.spec.dialect == Dialect::Postgres {
            format!("{col} COLLATE \"C\"")
        } else {
            col
        }
    }

    /// A placeholder for one scalar, cast where PostgreSQL needs it.
    fn scalar_ph(&mut self, source: BindSource, kind: ScalarKind) -> String {
        let ph = self.push(source);
        if kind == ScalarKind::DateTime && self.spec.dialect == Dialect::Postgres {
            format!("{ph}::timestamptz")
        } else {
            ph
        }
    }

    fn count_source(&self, input: Input<'_>, what: &str) -> Result<BindSource, PlanInputError> {
        if let Some(name) = input.variable() {
            if self.scope.values.is_none() {
                return Ok(if what == "limit" {
                    BindSource::Limit(name.clone(), self.spec.default_limit)
                } else {
                    BindSource::Offset(name.clone())
                });
            }
        }
        let input = self.scope.resolve(input)?;
        let default = if what == "limit" {
            self.spec.default_limit
        } else {
            0
        };
        count_bind(input, what, default).map(BindSource::Const)
    }

    /// At plan time, a variable in a value position becomes a deferred bind when it is
    /// non-null (its value never changes the SQL); a nullable one makes the statement be built
    /// per request. `None`: not a variable, or values are known — resolve it now.
    fn deferred(
        &self,
        input: Input<'_>,
        make: impl FnOnce(Name) -> BindSource,
    ) -> Option<Result<BindSource, PlanInputError>> {
        let name = input.variable()?;
        if self.scope.values.is_some() {
            return None;
        }
        Some(if self.scope.is_non_null(name) {
            Ok(make(name.clone()))
        } else {
            Err(PlanInputError::NeedsValues)
        })
    }

    fn scalar_source(
        &self,
        input: Input<'_>,
        kind: ScalarKind,
    ) -> Result<BindSource, PlanInputError> {
        if let Some(deferred) = self.deferred(input, |name| BindSource::Var { name, kind }) {
            return deferred;
        }
        let input = self.scope.resolve(input)?;
        to_bind(input, kind)
            .map(BindSource::Const)
            .map_err(PlanInputError::Invalid)
    }

    fn list_source(
        &self,
        input: Input<'_>,
        kind: ScalarKind,
    ) -> Result<BindSource, PlanInputError> {
        if let Some(deferred) = self.deferred(input, |name| BindSource::VarList { name, kind }) {
            return deferred;
        }
        let input = self.scope.resolve(input)?;
        let mut items = Vec::new();
        for item in input.items() {
            items.push(self.scope.resolve(item)?);
        }
        to_list_bind(&items, kind)
            .map(BindSource::Const)
            .map_err(PlanInputError::Invalid)
    }

    /// The `where` argument as a predicate; `None` for "no condition".
    fn where_expr(&mut self, input: Input<'_>) -> Result<Option<String>, PlanInputError> {
        let input = self.scope.resolve(input)?;
        if input.is_null() {
            return Ok(None);
        }
        let Some(entries) = input.entries() else {
            return Err(PlanInputError::Invalid("`where` must be an object".into()));
        };
        let mut parts = Vec::new();
        for (key, value) in entries {
            let part = match key {
                "and" => {
                    let mut all = Vec::new();
                    for item in self.scope.resolve(value)?.items() {
                        if let Some(p) = self.where_expr(item)? {
                            all.push(p);
                        }
                    }
                    (!all.is_empty()).then(|| format!("({})", all.join(" AND ")))
                }
                "or" => {
                    let items = self.scope.resolve(value)?.items();
                    let mut any = Vec::new();
                    let mut always = false;
                    for item in items {
                        match self.where_expr(item)? {
                            Some(p) => any.push(p),
                            None => always = true,
                        }
                    }
                    if always {
                        None
                    } else if any.is_empty() {
                        Some("1 = 0".to_string())
                    } else {
                        Some(format!("({})", any.join(" OR ")))
                    }
                }
                "not" => match self.where_expr(value)? {
                    Some(p) => Some(format!("NOT ({p})")),
                    None if self.scope.resolve(value)?.is_null() => None,
                    None => Some("1 = 0".to_string()),
                },
                field => {
                    let Some((column, _)) = self.spec.ty.column_for_field(field) else {
                        return Err(PlanInputError::Invalid(format!(
                            "`where` names unknown field `{field}`"
                        )));
                    };
                    self.column_filter(column, value)?
                }
            };
            if let Some(p) = part {
                parts.push(p);
            }
        }
        Ok((!parts.is_empty()).then(|| parts.join(" AND ")))
    }

    fn column_filter(
        &mut self,
        column: usize,
        input: Input<'_>,
    ) -> Result<Option<String>, PlanInputError> {
        let input = self.scope.resolve(input)?;
        let Some(entries) = input.entries() else {
            return Ok(None);
        };
        let kind = self.spec.ty.columns[column].kind;
        let col = self.column_ref(column);
        let mut parts = Vec::new();
        for (op, value) in entries {
            let sql_op = match op {
                "eq" => "=",
                "neq" => "<>",
                "lt" => "<",
                "lte" => "<=",
                "gt" => ">",
                "gte" => ">=",
                "like" => "LIKE",
                "in" => {
                    let resolved_null = value.variable().is_none() && value.is_null();
                    if resolved_null {
                        continue;
                    }
                    let source = self
                        .list_source(value, kind)
                        .map_err(|e| e.in_context(&format!("`where` filter `{op}`")))?;
                    let ph = self.push(source);
                    parts.push(match self.spec.dialect {
                        Dialect::Postgres if kind == ScalarKind::DateTime => {
                            format!("{col} = ANY({ph}::timestamptz[])")
                        }
                        Dialect::Postgres => format!("{col} = ANY({ph})"),
                        Dialect::Sqlite => format!("{col} IN (SELECT value FROM json_each({ph}))"),
                    });
                    continue;
                }
                "isNull" => {
                    let value = self.scope.resolve(value)?;
                    match value.as_bool() {
                        Some(true) => parts.push(format!("{col} IS NULL")),
                        Some(false) => parts.push(format!("{col} IS NOT NULL")),
                        None => {}
                    }
                    continue;
                }
                other => {
                    return Err(PlanInputError::Invalid(format!(
                        "unknown filter operator `{other}`"
                    )))
                }
            };
            // A comparison with null is never true in SQL; say so without binding a NULL.
            if value.variable().is_none() && value.is_null() {
                parts.push("1 = 0".to_string());
                continue;
            }
            let source = self
                .scalar_source(value, kind)
                .map_err(|e| e.in_context(&format!("`where` filter `{op}`")))?;
            let ph = self.scalar_ph(source, kind);
            parts.push(format!("{col} {sql_op} {ph}"));
        }
        Ok((!parts.is_empty()).then(|| parts.join(" AND ")))
    }

    /// `orderBy` keys, ending with the key column ascending (unless already present).
    fn order_keys(&self, input: Input<'_>) -> Result<Vec<OrderKey>, PlanInputError> {
        let ty = self.spec.ty;
        let mut keys = Vec::new();
        for item in self.scope.resolve(input)?.items() {
            let item = self.scope.resolve(item)?;
            let Some(entries) = item.entries() else {
                continue;
            };
            let mut column = None;
            let mut descending = false;
            for (k, v) in entries {
                let v = self.scope.resolve(v)?;
                match k {
                    "field" => {
                        let name = v.as_str().unwrap_or_default();
                        column = ty.column_for_field(name).map(|(i, _)| i);
                        if column.is_none() {
                            return Err(PlanInputError::Invalid(format!(
                                "cannot order {} by `{name}`",
                                ty.name
                            )));
                        }
                    }
                    "direction" => descending = v.as_str() == Some("DESC"),
                    _ => {}
                }
            }
            if let Some(column) = column {
                if !keys.iter().any(|k: &OrderKey| k.column == column) {
                    keys.push(OrderKey { column, descending });
                }
            }
        }
        if !keys.iter().any(|k| k.column == ty.key_column) {
            keys.push(OrderKey {
                column: ty.key_column,
                descending: false,
            });
        }
        Ok(keys)
    }

    fn order_sql(&self, keys: &[OrderKey]) -> String {
        let mut parts = Vec::with_capacity(keys.len());
        for key in keys {
            let col = self.sort_ref(key.column);
            let nullable = self.spec.ty.columns[key.column].nullable;
            // NULLs sort as the largest value on both dialects (PostgreSQL's default; SQLite's
            // is the opposite), so keyset predicates below can rely on it.
            parts.push(match (key.descending, nullable) {
                (false, false) => format!("{col} ASC"),
                (true, false) => format!("{col} DESC"),
                (false, true) => format!("{col} ASC NULLS LAST"),
                (true, true) => format!("{col} DESC NULLS FIRST"),
            });
        }
        parts.join(", ")
    }

    /// The keyset predicate for `after`: rows strictly after the cursor's position.
    fn keyset(
        &mut self,
        input: Input<'_>,
        order: &[OrderKey],
    ) -> Result<Option<String>, PlanInputError> {
        let input = self.scope.resolve(input)?;
        if input.is_null() {
            return Ok(None);
        }
        let Some(text) = input.as_str() else {
            return Err(PlanInputError::Invalid(
                "`after` must be a cursor string".into(),
            ));
        };
        let values = cursor::decode(text, self.spec.ty, order).map_err(PlanInputError::Invalid)?;
        let mut alternatives = Vec::new();
        for i in 0..order.len() {
            let mut conjunction = Vec::new();
            for j in 0..i {
                conjunction.push(self.key_eq(order[j], &values[j])?);
            }
            match self.key_after(order[i], &values[i])? {
                Some(after) => conjunction.push(after),
                None => continue, // nothing sorts after this value on this key
            }
            alternatives.push(format!("({})", conjunction.join(" AND ")));
        }
        if alternatives.is_empty() {
            return Ok(Some("1 = 0".into()));
        }
        Ok(Some(alternatives.join(" OR ")))
    }

    fn key_eq(&mut self, key: OrderKey, value: &Option<Bind>) -> Result<String, PlanInputError> {
        let col = self.column_ref(key.column);
        Ok(match value {
            None => format!("{col} IS NULL"),
            Some(bind) => {
                let kind = self.spec.ty.columns[key.column].kind;
                let ph = self.scalar_ph(BindSource::Const(bind.clone()), kind);
                format!("{col} = {ph}")
            }
        })
    }

    fn key_after(
        &mut self,
        key: OrderKey,
        value: &Option<Bind>,
    ) -> Result<Option<String>, PlanInputError> {
        let col = self.sort_ref(key.column);
        let nullable = self.spec.ty.columns[key.column].nullable;
        let kind = self.spec.ty.columns[key.column].kind;
        Ok(match (key.descending, value) {
            // Ascending, NULLs last: nothing sorts after NULL.
            (false, None) => None,
            (false, Some(bind)) => {
                let ph = self.scalar_ph(BindSource::Const(bind.clone()), kind);
                Some(if nullable {
                    format!("({col} > {ph} OR {col} IS NULL)")
                } else {
                    format!("{col} > {ph}")
                })
            }
            // Descending, NULLs first: every non-NULL sorts after NULL.
            (true, None) => Some(format!("{col} IS NOT NULL")),
            (true, Some(bind)) => {
                let ph = self.scalar_ph(BindSource::Const(bind.clone()), kind);
                Some(format!("{col} < {ph}"))
            }
        })
    }
}

/// `limit` / `offset` as a bind: null means the default; negative is an error.
pub(crate) fn count_bind(
    input: Input<'_>,
    what: &str,
    default: i64,
) -> Result<Bind, PlanInputError> {
    if input.is_null() {
        return Ok(Bind::BigInt(default));
    }
    match input.as_i64() {
        Some(n) if n >= 0 => Ok(Bind::BigInt(n)),
        _ => Err(PlanInputError::Invalid(format!(
            "`{what}` must be a non-negative integer"
        ))),
    }
}

/// One scalar value as a bind of the column's kind.
pub(crate) fn to_bind(input: Input<'_>, kind: ScalarKind) -> Result<Bind, String> {
    let bad = |what: &str| format!("{} is not {what}", input.describe());
    match kind {
        ScalarKind::Id | ScalarKind::ForeignKey => input
            .as_id()
            .map(Bind::BigInt)
            .ok_or_else(|| format!("{} is not a valid ID (IDs are integers)", input.describe())),
        ScalarKind::Int => input
            .as_i64()
            .and_then(|v| i32::try_from(v).ok())
            .map(Bind::Integer)
            .ok_or_else(|| bad("a 32-bit integer")),
        ScalarKind::Float => input
            .as_f64()
            .map(Bind::Double)
            .ok_or_else(|| bad("a number")),
        ScalarKind::Boolean => input
            .as_bool()
            .map(Bind::Bool)
            .ok_or_else(|| bad("a boolean")),
        ScalarKind::String | ScalarKind::Enum(_) => input
            .as_str()
            .map(|s| Bind::Text(s.to_string()))
            .ok_or_else(|| bad("a string")),
        ScalarKind::DateTime => {
            let text = input.as_str().ok_or_else(|| bad("a DateTime string"))?;
            canonical_datetime(text).map(Bind::Text)
        }
        ScalarKind::Json => Err("JSON values cannot be compared".to_string()),
    }
}

/// A list of values as one list bind.
pub(crate) fn to_list_bind(items: &[Input<'_>], kind: ScalarKind) -> Result<Bind, String> {
    // Each item goes through `to_bind`, so a list gets exactly the checks a single value does.
    fn collect<T>(
        items: &[Input<'_>],
        kind: ScalarKind,
        unwrap: fn(Bind) -> Option<T>,
    ) -> Result<Vec<T>, String> {
        items
            .iter()
            .map(|item| to_bind(*item, kind).map(unwrap))
            .filter_map(Result::transpose)
            .collect()
    }
    Ok(match kind {
        ScalarKind::Id | ScalarKind::ForeignKey => Bind::BigIntList(collect(items, kind, |b| {
            if let Bind::BigInt(v) = b {
                Some(v)
            } else {
                None
            }
        })?),
        ScalarKind::Int => Bind::IntegerList(collect(items, kind, |b| {
            if let Bind::Integer(v) = b {
                Some(v)
            } else {
                None
            }
        })?),
        ScalarKind::Float => Bind::DoubleList(collect(items, kind, |b| {
            if let Bind::Double(v) = b {
                Some(v)
            } else {
                None
            }
        })?),
        ScalarKind::Boolean | ScalarKind::Json => {
            return Err("`in` is not available for this type".to_string())
        }
        ScalarKind::String | ScalarKind::Enum(_) | ScalarKind::DateTime => {
            Bind::TextList(collect(items, kind, |b| {
                if let Bind::Text(v) = b {
                    Some(v)
                } else {
                    None
                }
            })?)
        }
    })
}

/// RFC 3339 text -> the canonical UTC form stored on SQLite and written in responses.
pub(crate) fn canonical_datetime(text: &str) -> Result<String, String> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .format("%Y-%m-%dT%H:%M:%S%.3fZ")
                .to_string()
        })
        .map_err(|_| format!("\"{text}\" is not an RFC 3339 date-time like 2026-01-31T12:00:00Z"))
}

/// Resolves bind sources against the request's variables, appending to `out`.
pub(crate) fn resolve_binds(
    sources: &[BindSource],
    variables: &JsonMap,
    claims: Option<&Claims>,
    out: &mut Vec<Bind>,
) -> Result<(), String> {
    let var = |name: &Name| {
        variables
            .get(name.as_str())
            .map(Input::Json)
            .unwrap_or(Input::Absent)
    };
    for source in sources {
        let bind = match source {
            BindSource::Const(bind) => bind.clone(),
            BindSource::Var { name, kind } => {
                to_bind(var(name), *kind).map_err(|e| format!("variable ${name} {e}"))?
            }
            BindSource::VarList { name, kind } => to_list_bind(&var(name).items(), *kind)
                .map_err(|e| format!("variable ${name}: {e}"))?,
            BindSource::Limit(name, default) => {
                count_bind(var(name), "limit", *default).map_err(input_message)?
            }
            BindSource::Offset(name) => {
                count_bind(var(name), "offset", 0).map_err(input_message)?
            }
            BindSource::Claim { claim, kind } => claim_bind(claims, claim, *kind),
        };
        out.push(bind);
    }
    Ok(())
}

/// The value a row filter binds: the claim as the column's type, or a typed `NULL` (matching
/// no row) for an anonymous caller, a missing claim, or a claim that does not fit the column
/// (an ID column and a non-numeric claim).
pub(crate) fn claim_bind(claims: Option<&Claims>, claim: &str, kind: ScalarKind) -> Bind {
    let text = claims.and_then(|c| c.filter_text(claim));
    match kind {
        ScalarKind::Id | ScalarKind::ForeignKey => {
            match text.as_deref().and_then(|t| t.parse::<i64>().ok()) {
                Some(v) => Bind::BigInt(v),
                None => Bind::Null(NullType::BigInt),
            }
        }
        ScalarKind::Int => match text.as_deref().and_then(|t| t.parse::<i32>().ok()) {
            Some(v) => Bind::Integer(v),
            None => Bind::Null(NullType::Integer),
        },
        _ => match text {
            Some(t) => Bind::Text(t),
            None => Bind::Null(NullType::Text),
        },
    }
}

fn input_message(error: PlanInputError) -> String {
    match error {
        PlanInputError::Invalid(message) => message,
        PlanInputError::NeedsValues => "a variable has no value".to_string(),
    }
}
