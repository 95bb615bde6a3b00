//! What `explain` says about shards: for each statement, which shards it runs on (exactly, when
//! the document or `--variables` give the keys), and for the document, every shard it touches.

use std::collections::BTreeSet;

use apollo_compiler::ast::Value;
use apollo_compiler::response::JsonMap;

use super::input::Input;
use super::{BindSource, FetchNode, Placement, Statement, WriteKind, WritePlan};
use crate::db::shard::ShardMap;
use crate::model::{SchemaModel, TypeModel};

/// The databases a statement reaches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Reach {
    /// The primary (a reference table, or no shards configured).
    Primary,
    /// These shards.
    Shards(BTreeSet<usize>),
    /// The shards of keys known only when the statement runs.
    Keys,
    /// Every shard.
    All,
}

/// Collects what each statement reaches while `explain` renders them.
pub(crate) struct ShardNotes<'a> {
    model: &'static SchemaModel,
    map: Option<&'a ShardMap>,
    variables: Option<&'a JsonMap>,
    touched: Vec<Reach>,
}

impl<'a> ShardNotes<'a> {
    pub fn new(
        model: &'static SchemaModel,
        map: Option<&'a ShardMap>,
        variables: Option<&'a JsonMap>,
    ) -> ShardNotes<'a> {
        ShardNotes {
            model,
            map,
            variables,
            touched: Vec::new(),
        }
    }

    /// What `node` reaches, under a parent that reached `parent` (`None` at the root), and the
    /// line to print (`None`: not sharded here; print the route).
    pub fn node(&mut self, node: &FetchNode, parent: Option<Reach>) -> (Reach, Option<String>) {
        let ty = &self.model.types[node.type_index];
        let Some(map) = self.map else {
            return (Reach::Primary, None);
        };
        let (reach, text) = match (node.placement, ty.shard) {
            (Placement::Primary, _) | (_, None) => (Reach::Primary, None),
            (Placement::Scatter, Some(_)) => {
                let window = match &node.statement {
                    Statement::Ready(built) if built.limit_bind.is_none() => "",
                    _ => ", then offset and limit applied to the merged rows",
                };
                (
                    Reach::All,
                    Some(format!(
                        "all {} in parallel; rows merged by the ordering{window}",
                        map.count()
                    )),
                )
            }
            (Placement::ByKey, Some(shard)) => match (node.link, parent) {
                (Some(_), Some(Reach::Primary) | None) => (
                    Reach::Keys,
                    Some(
                        "each shard holding some of the parent keys, one statement per shard"
                            .into(),
                    ),
                ),
                (Some(_), Some(reach)) => {
                    let text = format!(
                        "{} (co-located with the parent rows)",
                        describe(&reach, map)
                    );
                    (reach, Some(text))
                }
                // A written row's re-read: in the write's transaction.
                (None, Some(reach)) => {
                    let text = format!(
                        "{} (the written row, in the transaction)",
                        describe(&reach, map)
                    );
                    (reach, Some(text))
                }
                (None, None) => {
                    let column = ty.columns[shard.column].name;
                    match self.lookup_key(node) {
                        Known::Key(key) => self.one_shard(map, ty, column, key),
                        Known::Variable(name) => (
                            Reach::Keys,
                            Some(format!(
                                "the one shard holding ${name} ({}.{column})",
                                ty.name
                            )),
                        ),
                        Known::No => (
                            Reach::Keys,
                            Some(format!(
                                "the one shard holding the {}.{column} given",
                                ty.name
                            )),
                        ),
                    }
                }
            },
        };
        self.touched.push(reach.clone());
        (reach, text)
    }

    /// What a generated mutation reaches, and the line to print (`None`: the primary).
    pub fn write(&mut self, write: &WritePlan) -> (Reach, Option<String>) {
        let ty = &self.model.types[write.type_index];
        let (Some(map), Some(shard)) = (self.map, ty.shard) else {
            self.touched.push(Reach::Primary);
            return (Reach::Primary, None);
        };
        let column = &ty.columns[shard.column];
        let own_id = shard.column == ty.key_column;
        let (reach, text) = match (write.kind, own_id) {
            (WriteKind::Insert, true) => (
                Reach::Keys,
                Some("the shard of the id the server assigns when it runs".to_string()),
            ),
            (WriteKind::Update | WriteKind::Delete, true) => {
                match self.argument(
                    write.field.specified_argument_by_name("id").map(|v| &**v),
                    None,
                ) {
                    Known::Key(key) => self.one_shard(map, ty, column.name, key),
                    Known::Variable(name) => (
                        Reach::Keys,
                        Some(format!(
                            "the shard of ${name} ({}.{})",
                            ty.name, column.name
                        )),
                    ),
                    Known::No => (
                        Reach::Shards(BTreeSet::new()),
                        Some("none: no id given".into()),
                    ),
                }
            }
            (WriteKind::Insert, false) => {
                let field = column.input.unwrap_or(column.name);
                let input = write
                    .field
                    .specified_argument_by_name("input")
                    .map(|v| &**v);
                match self.argument(input, Some(field)) {
                    Known::Key(key) => self.one_shard(map, ty, column.name, key),
                    Known::Variable(name) => (
                        Reach::Keys,
                        Some(format!("the shard of input.{field} (from ${name})")),
                    ),
                    Known::No => (
                        Reach::Shards(BTreeSet::new()),
                        Some(format!(
                            "refused when it runs: input.{field} (the shard key) is missing"
                        )),
                    ),
                }
            }
            (WriteKind::Update | WriteKind::Delete, false) => (
                Reach::Shards(BTreeSet::new()),
                Some(format!(
                    "refused when it runs: {} is sharded by {}, which a change by id does not give",
                    ty.name, column.name
                )),
            ),
        };
        self.touched.push(reach.clone());
        (reach, text)
    }

    /// Every shard the document touches; `None` without shards.
    pub fn summary(&self) -> Option<String> {
        let map = self.map?;
        let mut known = BTreeSet::new();
        let (mut all, mut keys, mut primary) = (false, false, false);
        for reach in &self.touched {
            match reach {
                Reach::Primary => primary = true,
                Reach::Shards(set) => known.extend(set.iter().copied()),
                Reach::Keys => keys = true,
                Reach::All => all = true,
            }
        }
        let mut parts = Vec::new();
        if all {
            parts.push(format!("all {}", map.count()));
        } else {
            if !known.is_empty() {
                parts.push(describe(&Reach::Shards(known), map));
            }
            if keys {
                parts.push("the shards of keys known only when it runs".into());
            }
        }
        if parts.is_empty() {
            parts.push("none".into());
        }
        if primary {
            parts.push("and the primary (reference tables)".into());
        }
        Some(parts.join(", "))
    }

    fn one_shard(
        &self,
        map: &ShardMap,
        ty: &TypeModel,
        column: &str,
        key: i64,
    ) -> (Reach, Option<String>) {
        match map.shard_of(ty, key) {
            Some(Ok(shard)) => (
                Reach::Shards(BTreeSet::from([shard])),
                Some(format!("shard {shard} ({}.{column} = {key})", ty.name)),
            ),
            Some(Err(error)) => (
                Reach::Shards(BTreeSet::new()),
                Some(format!("none: {error}")),
            ),
            None => (Reach::Primary, None),
        }
    }

    /// The key a root lookup is bound to.
    fn lookup_key(&self, node: &FetchNode) -> Known {
        let Statement::Ready(built) = &node.statement else {
            return Known::No;
        };
        match built.key_bind.and_then(|i| built.binds.get(i)) {
            Some(BindSource::Const(crate::db::Bind::BigInt(key))) => Known::Key(*key),
            Some(BindSource::Var { name, .. }) => {
                match self.variables.and_then(|v| v.get(name.as_str())) {
                    Some(value) => Input::Json(value).as_id().map_or(Known::No, Known::Key),
                    None => Known::Variable(name.to_string()),
                }
            }
            _ => Known::No,
        }
    }

    /// An ID argument's value, or (with `field`) the value of that field of an input object.
    fn argument(&self, value: Option<&Value>, field: Option<&str>) -> Known {
        let Some(value) = value else {
            return Known::No;
        };
        let value = match (value, field) {
            (Value::Object(fields), Some(field)) => {
                match fields.iter().find(|(name, _)| name.as_str() == field) {
                    Some((_, v)) => &**v,
                    None => return Known::No,
                }
            }
            (Value::Variable(name), Some(field)) => {
                let Some(input) = self.variables.and_then(|v| v.get(name.as_str())) else {
                    return Known::Variable(name.to_string());
                };
                return input
                    .get(field)
                    .and_then(|v| Input::Json(v).as_id())
                    .map_or(Known::No, Known::Key);
            }
            (value, _) => value,
        };
        if let Value::Variable(name) = value {
            return match self.variables.and_then(|v| v.get(name.as_str())) {
                Some(value) => Input::Json(value).as_id().map_or(Known::No, Known::Key),
                None => Known::Variable(name.to_string()),
            };
        }
        Input::Ast(value).as_id().map_or(Known::No, Known::Key)
    }
}

/// What the document says about a key.
enum Known {
    Key(i64),
    /// A variable without a value at hand.
    Variable(String),
    /// Nothing usable.
    No,
}

fn describe(reach: &Reach, map: &ShardMap) -> String {
    match reach {
        Reach::Primary => "the primary".into(),
        Reach::Shards(set) if set.is_empty() => "no shard".into(),
        Reach::Shards(set) => {
            let list: Vec<String> = set.iter().map(ToString::to_string).collect();
            format!(
                "shard{} {}",
                if set.len() > 1 { "s" } else { "" },
                list.join(", ")
            )
        }
        Reach::Keys => "the shards of keys known only when it runs".into(),
        Reach::All => format!("all {} shards", map.count()),
    }
}
