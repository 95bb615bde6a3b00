//! SQL text for the model, built once at build time and embedded as `&'static str`: each
//! column's select expression and DDL type per dialect, and the statement templates with the
//! holes the runtime planner fills (`{columns} {where} {order} {limit} {offset} {key}`; see
//! `fraiseql_runtime::model`). Names are plain identifiers (checked by validation), so quoting
//! them with `"` is enough.

use crate::model::{Column, Kind, RelationKind, TableType};

/// One string per dialect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dialects {
    pub postgres: String,
    pub sqlite: String,
}

impl Dialects {
    fn same(s: String) -> Self {
        Dialects {
            postgres: s.clone(),
            sqlite: s,
        }
    }
}

/// The select-list expression reading `t.<column>` as `<column>`. PostgreSQL renders
/// timestamps in the canonical UTC text SQLite stores, and JSONB as text.
pub fn select(column: &Column) -> Dialects {
    let name = &column.name;
    let plain = format!("t.\"{name}\" AS \"{name}\"");
    match column.kind {
        Kind::DateTime => Dialects {
            postgres: format!(
                "to_char(t.\"{name}\" AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS \"{name}\""
            ),
            sqlite: plain,
        },
        Kind::Json => Dialects { postgres: format!("t.\"{name}\"::text AS \"{name}\""), sqlite: plain },
        _ => Dialects::same(plain),
    }
}

/// The column type in DDL.
pub fn ddl_type(column: &Column) -> Dialects {
    let (postgres, sqlite) = match column.kind {
        Kind::Id | Kind::ForeignKey => ("BIGINT".to_owned(), "INTEGER"),
        Kind::Int => ("INTEGER".to_owned(), "INTEGER"),
        Kind::Float => ("DOUBLE PRECISION".to_owned(), "REAL"),
        Kind::Boolean => ("BOOLEAN".to_owned(), "BOOLEAN"),
        Kind::String => match column.max_length {
            Some(n) => (format!("VARCHAR({n})"), "TEXT"),
            None => ("TEXT".to_owned(), "TEXT"),
        },
        Kind::Enum(_) => ("TEXT".to_owned(), "TEXT"),
        Kind::DateTime => ("TIMESTAMPTZ".to_owned(), "TEXT"),
        Kind::Json => ("JSONB".to_owned(), "TEXT"),
    };
    Dialects {
        postgres,
        sqlite: sqlite.to_owned(),
    }
}

/// The batched statement of a relation field from `owner` to `target`: `$1` is the array of
/// parent keys (a JSON array on SQLite), and every row starts with its parent's key.
pub fn relation(kind: RelationKind, foreign_key: &str, target: &TableType) -> Dialects {
    let table = &target.table;
    match kind {
        RelationKind::HasMany => Dialects {
            postgres: format!(
                "SELECT p.k AS __fraiseql_parent, {{columns}} FROM unnest($1::bigint[]) AS p(k) CROSS JOIN LATERAL \
                 (SELECT t.* FROM \"{table}\" AS t WHERE t.\"{foreign_key}\" = p.k{{where}} ORDER BY {{order}} \
                 LIMIT {{limit}} OFFSET {{offset}}) AS t ORDER BY p.k, {{order}}"
            ),
            sqlite: format!(
                "SELECT t.__fraiseql_parent AS __fraiseql_parent, {{columns}} FROM (SELECT t.*, t.\"{foreign_key}\" \
                 AS __fraiseql_parent, row_number() OVER (PARTITION BY t.\"{foreign_key}\" ORDER BY {{order}}) AS \
                 __fraiseql_rn FROM \"{table}\" AS t WHERE t.\"{foreign_key}\" IN (SELECT value FROM json_each($1))\
                 {{where}}) AS t WHERE t.__fraiseql_rn > {{offset}} AND t.__fraiseql_rn <= {{offset}} + {{limit}} \
                 ORDER BY t.__fraiseql_parent, t.__fraiseql_rn"
            ),
        },
        RelationKind::BelongsTo => {
            let key = target.key_name();
            let head = format!("SELECT t.\"{key}\" AS __fraiseql_parent, {{columns}} FROM \"{table}\" AS t WHERE t.\"{key}\"");
            Dialects {
                postgres: format!("{head} = ANY($1::bigint[])"),
                sqlite: format!("{head} IN (SELECT value FROM json_each($1))"),
            }
        }
    }
}

/// Rows by key: `$1` is the array of keys; each row's parent column is its own key.
pub fn by_keys(target: &TableType) -> Dialects {
    relation(RelationKind::BelongsTo, target.key_name(), target)
}

/// A root lookup by key.
pub fn lookup(target: &TableType) -> Dialects {
    Dialects::same(format!(
        "SELECT CAST(0 AS BIGINT) AS __fraiseql_parent, {{columns}} FROM \"{}\" AS t WHERE t.\"{}\" = {{key}}",
        target.table,
        target.key_name()
    ))
}

/// A root list.
pub fn list(target: &TableType) -> Dialects {
    Dialects::same(format!(
        "SELECT CAST(0 AS BIGINT) AS __fraiseql_parent, {{columns}} FROM \"{}\" AS t WHERE 1 = 1{{where}} \
         ORDER BY {{order}} LIMIT {{limit}} OFFSET {{offset}}",
        target.table
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Route, Source};

    fn column(name: &str, kind: Kind, max_length: Option<u32>) -> Column {
        Column {
            name: name.into(),
            field: Some(name.into()),
            description: None,
            graphql_type: String::new(),
            kind,
            nullable: false,
            max_length,
            cache: None,
        }
    }

    fn users() -> TableType {
        TableType {
            name: "User".into(),
            description: None,
            table: "users".into(),
            key_column: 0,
            columns: vec![column("id", Kind::Id, None)],
            relations: vec![],
            indexes: vec![],
            cache: None,
            route: Route::Inherit,
            shard: None,
            seed_rows: 0,
            access: Default::default(),
            fields: vec![],
            source: Source {
                file: "s.graphql".into(),
                line: 1,
                column: 1,
            },
        }
    }

    #[test]
    fn select_expressions_per_kind() {
        assert_eq!(
            select(&column("bio", Kind::String, None)).postgres,
            "t.\"bio\" AS \"bio\""
        );
        assert_eq!(
            select(&column("meta", Kind::Json, None)).postgres,
            "t.\"meta\"::text AS \"meta\""
        );
        assert_eq!(
            select(&column("meta", Kind::Json, None)).sqlite,
            "t.\"meta\" AS \"meta\""
        );
        assert!(select(&column("at", Kind::DateTime, None))
            .postgres
            .starts_with("to_char(t.\"at\" AT TIME ZONE 'UTC'"));
    }

    #[test]
    fn ddl_types_follow_kind_and_length() {
        assert_eq!(
            ddl_type(&column("email", Kind::String, Some(255))).postgres,
            "VARCHAR(255)"
        );
        assert_eq!(
            ddl_type(&column("email", Kind::String, Some(255))).sqlite,
            "TEXT"
        );
        assert_eq!(
            ddl_type(&column("user_id", Kind::ForeignKey, None)).sqlite,
            "INTEGER"
        );
        assert_eq!(
            ddl_type(&column("rating", Kind::Float, None)).postgres,
            "DOUBLE PRECISION"
        );
    }

    #[test]
    fn templates_keep_every_hole() {
        let has_many = relation(RelationKind::HasMany, "user_id", &users());
        for sql in [&has_many.postgres, &has_many.sqlite] {
            for hole in ["{columns}", "{where}", "{order}", "{limit}", "{offset}"] {
                assert!(sql.contains(hole), "{hole} missing in {sql}");
            }
            assert!(sql.contains("t.\"user_id\""));
        }
        let belongs = relation(RelationKind::BelongsTo, "user_id", &users());
        assert_eq!(
            belongs.postgres,
            "SELECT t.\"id\" AS __fraiseql_parent, {columns} FROM \"users\" AS t WHERE t.\"id\" = ANY($1::bigint[])"
        );
        assert!(lookup(&users()).sqlite.ends_with("WHERE t.\"id\" = {key}"));
        assert!(list(&users())
            .postgres
            .contains("FROM \"users\" AS t WHERE 1 = 1{where} ORDER BY"));
    }
}
