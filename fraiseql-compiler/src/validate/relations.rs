//! Resolving what needs every table's columns: relation foreign keys (adding the hidden
//! foreign-key columns many-to-one relations imply), the automatic and declared indexes, and
//! shard keys.

use super::types::Draft;
use super::{source, Ctx};
use crate::model::{Column, Index, Kind, Relation, RelationKind, Shard, ShardStrategy};
use crate::naming::{did_you_mean, is_plain_identifier, is_unusable_rust_field};

pub(crate) fn resolve(ctx: &mut Ctx<'_>, drafts: &mut [Draft]) {
    add_foreign_key_columns(ctx, drafts);
    // Before relations: a relation between sharded types is checked against both shard keys.
    shards(ctx, drafts);
    build_relations(ctx, drafts);
    indexes(ctx, drafts);
}

/// A many-to-one field keeps its foreign key on its own table: an existing ID column, or a
/// hidden `ForeignKey` column appended after the field columns.
fn add_foreign_key_columns(ctx: &mut Ctx<'_>, drafts: &mut [Draft]) {
    for draft in drafts.iter_mut() {
        for p in draft.pending.iter().filter(|p| !p.list) {
            let subject = format!("{}.{}", draft.table.name, p.field);
            let fk = p.foreign_key.as_str();
            if !is_plain_identifier(fk)
                || is_unusable_rust_field(fk)
                || fk.starts_with("__fraiseql")
            {
                let message = format!("@relation on {subject} names column \"{fk}\", which is not a usable column name");
                ctx.error(&draft.file, p.pos, message);
                continue;
            }
            match draft.table.column_named(&p.foreign_key) {
                Some(i) => {
                    let column = &mut draft.table.columns[i];
                    match column.kind {
                        Kind::ForeignKey => column.nullable |= p.nullable,
                        Kind::Id => {}
                        _ => {
                            let message = format!(
                                "@relation on {subject} names column \"{}\", which is a {} column; a foreign key must be an ID",
                                p.foreign_key, column.graphql_type
                            );
                            ctx.error(&draft.file, p.pos, message);
                        }
                    }
                }
                None => draft.table.columns.push(Column {
                    name: p.foreign_key.clone(),
                    field: None,
                    description: None,
                    graphql_type: String::new(),
                    kind: Kind::ForeignKey,
                    nullable: p.nullable,
                    max_length: None,
                    cache: None,
                }),
            }
        }
    }
}

/// Relations in field order; a one-to-many field's column must exist on the target table.
fn build_relations(ctx: &mut Ctx<'_>, drafts: &mut [Draft]) {
    for i in 0..drafts.len() {
        let mut relations = Vec::new();
        for p in &drafts[i].pending {
            let owner = &drafts[i];
            let target = &drafts[p.target];
            let subject = format!("{}.{}", owner.table.name, p.field);
            let (kind, holder) = if p.list {
                (RelationKind::HasMany, target)
            } else {
                (RelationKind::BelongsTo, owner)
            };
            let Some(fk) = holder.table.column_named(&p.foreign_key) else {
                if p.list {
                    let names = target.table.columns.iter().map(|c| c.name.as_str());
                    let message = format!(
                        "@relation on {subject} names column \"{}\", which {} does not have",
                        p.foreign_key, target.table.table
                    );
                    let hint = did_you_mean(&p.foreign_key, names, true);
                    ctx.error(&owner.file, p.pos, message).hint = hint;
                }
                continue;
            };
            if p.list && !matches!(target.table.columns[fk].kind, Kind::Id | Kind::ForeignKey) {
                let message = format!(
                    "@relation on {subject} names column \"{}\" of {}, which is not an ID column",
                    p.foreign_key, target.table.table
                );
                ctx.error(&owner.file, p.pos, message);
                continue;
            }
            if let Some((message, hint)) = colocation(owner, target, p.list, fk, &subject) {
                ctx.error(&owner.file, p.pos, message).hint = hint;
                continue;
            }
            relations.push(Relation {
                field: p.field.clone(),
                description: p.description.clone(),
                graphql_type: p.graphql_type.clone(),
                target: p.target,
                kind,
                foreign_key: p.foreign_key.clone(),
                parent_column: if p.list { owner.table.key_column } else { fk },
                // Lists are never null; a missing parent row of a many-to-one field is.
                nullable: !p.list && p.nullable,
                cache: p.cache,
                route: p.route,
                source: source(&owner.file, p.pos),
            });
        }
        drafts[i].table.relations = relations;
    }
}

/// One index per foreign-key column a relation uses (on the table holding it, in column
/// order), then a unique index per `@column(unique: true)`, then each `@index` in declaration
/// order; same-named duplicates are dropped.
fn indexes(ctx: &mut Ctx<'_>, drafts: &mut [Draft]) {
    let mut used: Vec<Vec<usize>> = drafts.iter().map(|_| Vec::new()).collect();
    for (i, draft) in drafts.iter().enumerate() {
        for r in &draft.table.relations {
            let (holder, column) = match r.kind {
                RelationKind::BelongsTo => (i, r.parent_column),
                RelationKind::HasMany => {
                    match drafts[r.target].table.column_named(&r.foreign_key) {
                        Some(c) => (r.target, c),
                        None => continue,
                    }
                }
            };
            used[holder].push(column);
        }
    }
    for (i, draft) in drafts.iter_mut().enumerate() {
        let mut columns = std::mem::take(&mut used[i]);
        columns.sort_unstable();
        columns.dedup();
        let mut indexes: Vec<Index> = Vec::new();
        for c in columns {
            let name = draft.table.columns[c].name.clone();
            indexes.push(Index {
                name: format!("idx_{}_{name}", draft.table.table),
                columns: vec![name],
                predicate: None,
                unique: false,
            });
        }
        for &c in &draft.unique {
            let name = draft.table.columns[c].name.clone();
            indexes.push(Index {
                name: format!("uq_{}_{name}", draft.table.table),
                columns: vec![name],
                predicate: None,
                unique: true,
            });
        }
        for d in draft.directives.all("index") {
            let fields = d.strings("fields").unwrap_or_default();
            if fields.is_empty() {
                ctx.error(
                    &draft.file,
                    d.pos,
                    format!("@index on {} lists no columns", draft.table.name),
                );
                continue;
            }
            let mut ok = true;
            for f in fields {
                if draft.table.column_named(f).is_none() {
                    let names = draft.table.columns.iter().map(|c| c.name.as_str());
                    let hint = did_you_mean(f, names, true);
                    let message = format!(
                        "@index on {} names column \"{f}\", which {} does not have",
                        draft.table.name, draft.table.table
                    );
                    ctx.error(&draft.file, d.pos, message).hint = hint;
                    ok = false;
                }
            }
            let name = format!("idx_{}_{}", draft.table.table, fields.join("_"));
            if ok && !indexes.iter().any(|x| x.name == name) {
                let predicate = d.string("where").map(str::to_owned);
                indexes.push(Index {
                    name,
                    columns: fields.to_vec(),
                    predicate,
                    unique: false,
                });
            }
        }
        draft.table.indexes = indexes;
    }
}

/// Why a relation between two sharded types would join rows that may live on different shards
/// (message, hint), or `None` when it is fine. Related rows share a shard only when each side's
/// join column is its shard key and both map keys to shards the same way: then the value they
/// join on names one shard for both. `fk` is the foreign-key column on the side holding it
/// (the target of a list, the owner otherwise).
fn colocation(
    owner: &Draft,
    target: &Draft,
    list: bool,
    fk: usize,
    subject: &str,
) -> Option<(String, Option<String>)> {
    let (Some(owner_shard), Some(target_shard)) = (owner.table.shard, target.table.shard) else {
        return None;
    };
    let (owner_join, target_join) = if list {
        (owner.table.key_column, fk)
    } else {
        (fk, target.table.key_column)
    };
    let column = |d: &Draft, c: usize| d.table.columns[c].name.clone();
    let (o, t) = (&owner.table, &target.table);
    if owner_shard.strategy != target_shard.strategy {
        let name = |s: ShardStrategy| match s {
            ShardStrategy::Hash => "HASH",
            ShardStrategy::Range => "RANGE",
        };
        return Some((
            format!(
                "@relation on {subject} joins {} (@shard strategy {}) to {} (strategy {}): related \
                 sharded types must map keys to shards the same way, or related rows land on \
                 different shards",
                o.name,
                name(owner_shard.strategy),
                t.name,
                name(target_shard.strategy)
            ),
            Some(format!(
                "give both the same strategy: {}",
                name(owner_shard.strategy)
            )),
        ));
    }
    if owner_shard.column == owner_join && target_shard.column == target_join {
        return None;
    }
    let message = format!(
        "@relation on {subject} joins {}.{} to {}.{}, but {} is sharded by \"{}\" and {} by \"{}\": \
         related sharded types must be sharded on the columns they join on, so that related rows \
         share a shard",
        o.table,
        column(owner, owner_join),
        t.table,
        column(target, target_join),
        o.name,
        column(owner, owner_shard.column),
        t.name,
        column(target, target_shard.column),
    );
    let hint = if owner_shard.column != owner_join {
        format!(
            "shard {} with @shard(key: \"{}\"), or make {} a reference table (no @shard)",
            o.name,
            column(owner, owner_join),
            o.name
        )
    } else {
        format!(
            "shard {} with @shard(key: \"{}\"), or make {} a reference table (no @shard)",
            t.name,
            column(target, target_join),
            t.name
        )
    };
    Some((message, Some(hint)))
}

/// `@shard(key:, strategy:)`: the key names a non-null ID or foreign-key column (a 64-bit
/// integer: the hash and the ranges are defined on those).
fn shards(ctx: &mut Ctx<'_>, drafts: &mut [Draft]) {
    for draft in drafts.iter_mut() {
        let Some(d) = draft.directives.get("shard") else {
            continue;
        };
        let key = d.string("key").unwrap_or_default();
        let strategy = match d.enum_value("strategy") {
            Some("RANGE") => ShardStrategy::Range,
            _ => ShardStrategy::Hash,
        };
        match draft.table.column_named(key) {
            Some(column) => {
                let c = &draft.table.columns[column];
                if !matches!(c.kind, Kind::Id | Kind::ForeignKey) {
                    let message = format!(
                        "@shard on {} names key \"{key}\", a {} column; a shard key must be the \
                         type's ID or a foreign key (a 64-bit integer)",
                        draft.table.name, c.graphql_type
                    );
                    ctx.error(&draft.file, d.pos, message);
                } else if c.nullable {
                    let message = format!(
                        "@shard on {} names key \"{key}\", which may be null; a row without a \
                         shard key has no shard",
                        draft.table.name
                    );
                    ctx.error(&draft.file, d.pos, message).hint =
                        Some("make the relation that holds it non-null".into());
                } else {
                    draft.table.shard = Some(Shard { column, strategy });
                }
            }
            None => {
                let names = draft.table.columns.iter().map(|c| c.name.as_str());
                let hint = did_you_mean(key, names, true);
                let message = format!(
                    "@shard on {} names key \"{key}\", which is not a column of {}",
                    draft.table.name, draft.table.table
                );
                ctx.error(&draft.file, d.pos, message).hint = hint;
            }
        }
    }
}
