//! [`PlannedQuery`]: a planned statement with its binds, in a form diesel may keep prepared.
//!
//! `diesel::sql_query` marks every statement unsafe to cache, so each load on PostgreSQL is a
//! Parse/Describe round trip before the Bind/Execute one, and SQLite compiles the statement
//! anew. A planned statement's text is fixed per document shape (the plan cache returns the
//! same text), so caching it per connection by text is safe: this type walks the SQL as text
//! segments and typed binds, which is what diesel's statement cache keys on.
//!
//! diesel writes its own placeholder for each bind (`$n` on PostgreSQL, `?` on SQLite), so
//! the planner's `$n` are replaced by one placeholder per occurrence; a `$n` used twice is
//! bound twice.
//!
//! Typed loads (`row::RowLoader`) use it cached unless `FRAISEQL_STATEMENT_CACHE=off`
//! (`PoolSettings::statement_cache`: a pooler in transaction mode may run the next request on
//! a server connection that never prepared the statement); `Session::execute` and the catalog
//! reads always use it uncached. The per-connection cache is bounded only by the number of
//! distinct statement texts, which the (bounded) plan cache limits.

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Bool, Double, Integer, Nullable, Text, Untyped};
use diesel::sqlite::Sqlite;
use diesel::QueryResult;

use super::bind::NullType;
use super::Bind;

/// A statement and its binds, cacheable as a prepared statement.
pub struct PlannedQuery<'a> {
    /// SQL text before each placeholder, and the 0-based index of the bind it names.
    segments: Vec<(&'a str, usize)>,
    /// SQL text after the last placeholder.
    tail: &'a str,
    binds: &'a [Bind],
    /// SQLite only: list binds as JSON array text, by bind index.
    json_lists: Vec<Option<String>>,
    /// Whether the connection may keep the statement prepared.
    cache: bool,
}

impl<'a> PlannedQuery<'a> {
    /// `sql` with `$n` placeholders (1-based, into `binds`). Fails when a placeholder names a
    /// bind that does not exist.
    pub fn new(sql: &'a str, binds: &'a [Bind]) -> QueryResult<PlannedQuery<'a>> {
        let (segments, tail) = split_placeholders(sql);
        if let Some(&(_, index)) = segments.iter().find(|(_, i)| *i >= binds.len()) {
            return Err(diesel::result::Error::QueryBuilderError(
                format!(
                    "placeholder ${} has no bound value ({} given)",
                    index + 1,
                    binds.len()
                )
                .into(),
            ));
        }
        Ok(PlannedQuery {
            segments,
            tail,
            binds,
            json_lists: Vec::new(),
            cache: true,
        })
    }

    /// Not to be kept prepared: a one-off statement (DDL, a seed batch) would only fill the
    /// connection's statement cache.
    pub fn uncached(mut self) -> Self {
        self.cache = false;
        self
    }

    /// The same, with list binds prepared as SQLite reads them (JSON array text).
    pub fn for_sqlite(sql: &'a str, binds: &'a [Bind]) -> QueryResult<PlannedQuery<'a>> {
        let mut query = PlannedQuery::new(sql, binds)?;
        query.json_lists = binds.iter().map(super::bind::sqlite_list_json).collect();
        Ok(query)
    }
}

/// Splits at every `$<digits>` outside quotes: `'…'` literals and `"…"` identifiers. Runs per
/// statement per request, so it jumps between the three bytes that matter (memchr) instead of
/// looking at every byte.
fn split_placeholders(sql: &str) -> (Vec<(&str, usize)>, &str) {
    let bytes = sql.as_bytes();
    let mut segments = Vec::new();
    let (mut start, mut i) = (0, 0);
    while let Some(offset) = memchr::memchr3(b'$', b'\'', b'"', &bytes[i..]) {
        i += offset;
        let b = bytes[i];
        if b != b'$' {
            // To the closing quote; a doubled quote inside is an escaped one: leave and
            // re-enter. An unterminated quote runs to the end.
            match memchr::memchr(b, &bytes[i + 1..]) {
                Some(end) => {
                    i += end + 2;
                    continue;
                }
                None => break,
            }
        }
        let digits_end = bytes[i + 1..]
            .iter()
            .position(|c| !c.is_ascii_digit())
            .map_or(bytes.len(), |p| i + 1 + p);
        // `$0`, a lone `$` and absurdly long numbers are left as text; the database rejects
        // them.
        if let Ok(n @ 1..) = sql[i + 1..digits_end].parse::<usize>() {
            segments.push((&sql[start..i], n - 1));
            start = digits_end;
        }
        i = digits_end.max(i + 1);
    }
    (segments, &sql[start..])
}

impl QueryId for PlannedQuery<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for PlannedQuery<'_> {
    type SqlType = Untyped;
}

impl<Conn> diesel::RunQueryDsl<Conn> for PlannedQuery<'_> {}

impl QueryFragment<Pg> for PlannedQuery<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        if !self.cache {
            out.unsafe_to_cache_prepared();
        }
        for &(text, index) in &self.segments {
            out.push_sql(text);
            match &self.binds[index] {
                Bind::BigInt(v) => out.push_bind_param::<BigInt, _>(v)?,
                Bind::Integer(v) => out.push_bind_param::<Integer, _>(v)?,
                Bind::Double(v) => out.push_bind_param::<Double, _>(v)?,
                Bind::Text(v) => out.push_bind_param::<Text, _>(v)?,
                Bind::Bool(v) => out.push_bind_param::<Bool, _>(v)?,
                Bind::BigIntList(v) => out.push_bind_param::<Array<BigInt>, _>(v)?,
                Bind::IntegerList(v) => out.push_bind_param::<Array<Integer>, _>(v)?,
                Bind::DoubleList(v) => out.push_bind_param::<Array<Double>, _>(v)?,
                Bind::TextList(v) => out.push_bind_param::<Array<Text>, _>(v)?,
                Bind::Null(NullType::BigInt) => {
                    out.push_bind_param::<Nullable<BigInt>, _>(&None::<i64>)?
                }
                Bind::Null(NullType::Integer) => {
                    out.push_bind_param::<Nullable<Integer>, _>(&None::<i32>)?
                }
                Bind::Null(NullType::Double) => {
                    out.push_bind_param::<Nullable<Double>, _>(&None::<f64>)?
                }
                Bind::Null(NullType::Text) => {
                    out.push_bind_param::<Nullable<Text>, _>(&None::<String>)?
                }
                Bind::Null(NullType::Bool) => {
                    out.push_bind_param::<Nullable<Bool>, _>(&None::<bool>)?
                }
            }
        }
        out.push_sql(self.tail);
        Ok(())
    }
}

impl QueryFragment<Sqlite> for PlannedQuery<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        if !self.cache {
            out.unsafe_to_cache_prepared();
        }
        for &(text, index) in &self.segments {
            out.push_sql(text);
            if let Some(Some(json)) = self.json_lists.get(index) {
                out.push_bind_param::<Text, _>(json)?;
                continue;
            }
            match &self.binds[index] {
                Bind::BigInt(v) => out.push_bind_param::<BigInt, _>(v)?,
                Bind::Integer(v) => out.push_bind_param::<Integer, _>(v)?,
                Bind::Double(v) => out.push_bind_param::<Double, _>(v)?,
                Bind::Text(v) => out.push_bind_param::<Text, _>(v)?,
                Bind::Bool(v) => out.push_bind_param::<Bool, _>(v)?,
                Bind::Null(NullType::BigInt) => {
                    out.push_bind_param::<Nullable<BigInt>, _>(&None::<i64>)?
                }
                Bind::Null(NullType::Integer) => {
                    out.push_bind_param::<Nullable<Integer>, _>(&None::<i32>)?
                }
                Bind::Null(NullType::Double) => {
                    out.push_bind_param::<Nullable<Double>, _>(&None::<f64>)?
                }
                Bind::Null(NullType::Text) => {
                    out.push_bind_param::<Nullable<Text>, _>(&None::<String>)?
                }
                Bind::Null(NullType::Bool) => {
                    out.push_bind_param::<Nullable<Bool>, _>(&None::<bool>)?
                }
                // Lists were turned into JSON by `for_sqlite`; built with `new`, they are an
                // error rather than a wrong statement.
                _ => {
                    return Err(diesel::result::Error::QueryBuilderError(
                        "a list bind on SQLite needs PlannedQuery::for_sqlite".into(),
                    ))
                }
            }
        }
        out.push_sql(self.tail);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::{Connection, RunQueryDsl, SqliteConnection};

    use super::{split_placeholders, PlannedQuery};
    use crate::db::text_rows::TextValue;
    use crate::db::Bind;
    use crate::row::Keyed;

    /// The shape `RowLoader` loads (`Keyed<row>`), through a planned query with a list and a
    /// repeated placeholder, twice on one connection (the second run uses the cached statement).
    #[test]
    fn loads_keyed_rows_on_sqlite() {
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        conn.batch_execute(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); \
             INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c');",
        )
        .unwrap();
        let sql = "SELECT t.id AS __fraiseql_parent, t.v AS value FROM t \
                   WHERE t.id IN (SELECT value FROM json_each($1)) AND t.id >= $2 AND $2 > 0 \
                   ORDER BY t.id";
        let binds = [Bind::BigIntList(vec![1, 2, 3]), Bind::BigInt(2)];
        for _ in 0..2 {
            let query = PlannedQuery::for_sqlite(sql, &binds).unwrap();
            let rows: Vec<Keyed<TextValue>> = query.load(&mut conn).unwrap();
            let got: Vec<(i64, &str)> = rows.iter().map(|r| (r.parent, r.row.0.as_str())).collect();
            assert_eq!(got, [(2, "b"), (3, "c")]);
        }
        let missing = PlannedQuery::new("SELECT $3", &binds);
        assert!(missing.is_err());
    }

    #[test]
    fn placeholders_outside_quotes_are_found() {
        let sql = "SELECT '$1', \"a$2\" FROM t WHERE a = $1 AND b <= $2 + $1 AND c = $10x";
        let (segments, tail) = split_placeholders(sql);
        let found: Vec<usize> = segments.iter().map(|(_, i)| *i).collect();
        assert_eq!(found, [0, 1, 0, 9]);
        assert_eq!(segments[0].0, "SELECT '$1', \"a$2\" FROM t WHERE a = ");
        assert_eq!(tail, "x");
        let (none, all) = split_placeholders("SELECT $0, 'it''s $1'");
        assert!(none.is_empty());
        assert_eq!(all, "SELECT $0, 'it''s $1'");
    }
}
