//! FraiseQL's schema directives: which exist, where each may appear, which arguments each
//! takes, and reading a parsed directive into checked values. Everything about a directive's
//! *syntax* is checked here once; the validator only interprets values that are known to have
//! the right shape.

use std::collections::BTreeMap;

use graphql_parser::schema::{Directive, Value};
use graphql_parser::Pos;

use crate::error::SchemaError;
use crate::naming::did_you_mean;

/// Where a directive was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    /// `schema @cache(...) { query: Query }`.
    Schema,
    /// An object type.
    Type,
    /// A field whose type is a scalar or enum.
    ScalarField,
    /// A field whose type is a table type.
    RelationField,
    /// A field of `type Query`.
    QueryField,
    /// A field of `type Mutation`.
    MutationField,
    /// `type Query` or `type Mutation` itself, an enum, or an enum value: no directive applies there.
    Other,
}

impl Location {
    fn describe(self) -> &'static str {
        match self {
            Location::Schema => "the schema definition",
            Location::Type => "a type",
            Location::ScalarField => "a scalar or enum field",
            Location::RelationField => "a relation field (typed with a table type)",
            Location::QueryField => "a Query field",
            Location::MutationField => "a Mutation field",
            Location::Other => "not a place for FraiseQL directives",
        }
    }
}

/// The type of a directive argument.
#[derive(Clone, Copy, Debug)]
pub enum ArgType {
    Int,
    Boolean,
    String,
    StringList,
    Enum(&'static str, &'static [&'static str]),
}

impl ArgType {
    fn describe(self) -> String {
        match self {
            ArgType::Int => "Int".into(),
            ArgType::Boolean => "Boolean".into(),
            ArgType::String => "String".into(),
            ArgType::StringList => "[String!]".into(),
            ArgType::Enum(name, values) => format!("{name} (one of {})", values.join(", ")),
        }
    }
}

struct ArgSpec {
    name: &'static str,
    ty: ArgType,
    required: bool,
}

struct DirectiveSpec {
    name: &'static str,
    locations: &'static [Location],
    args: &'static [ArgSpec],
    repeatable: bool,
}

const fn arg(name: &'static str, ty: ArgType, required: bool) -> ArgSpec {
    ArgSpec { name, ty, required }
}

const SCOPE: ArgType = ArgType::Enum("CacheScope", &["PUBLIC", "PRIVATE"]);
const STRATEGY: ArgType = ArgType::Enum("ShardStrategy", &["HASH", "RANGE"]);
const ROUTED: &[Location] = &[
    Location::Type,
    Location::RelationField,
    Location::QueryField,
];

/// Every directive FraiseQL reads. `@cache` has two forms: on the schema it sets the default
/// and the upper bound (`maxTtl`), elsewhere a field or type policy (`ttl`).
const SPECS: &[DirectiveSpec] = &[
    DirectiveSpec {
        name: "table",
        locations: &[Location::Type],
        args: &[arg("name", ArgType::String, false)],
        repeatable: false,
    },
    DirectiveSpec {
        name: "column",
        locations: &[Location::ScalarField],
        args: &[
            arg("name", ArgType::String, false),
            arg("maxLength", ArgType::Int, false),
            arg("unique", ArgType::Boolean, false),
        ],
        repeatable: false,
    },
    DirectiveSpec {
        name: "relation",
        locations: &[Location::RelationField],
        args: &[arg("foreignKey", ArgType::String, true)],
        repeatable: false,
    },
    DirectiveSpec {
        name: "index",
        locations: &[Location::Type],
        args: &[
            arg("fields", ArgType::StringList, true),
            arg("where", ArgType::String, false),
        ],
        repeatable: true,
    },
    DirectiveSpec {
        name: "cache",
        locations: &[Location::Schema],
        args: &[
            arg("maxTtl", ArgType::Int, true),
            arg("scope", SCOPE, false),
        ],
        repeatable: false,
    },
    DirectiveSpec {
        name: "cache",
        locations: &[
            Location::Type,
            Location::ScalarField,
            Location::RelationField,
            Location::QueryField,
        ],
        args: &[arg("ttl", ArgType::Int, true), arg("scope", SCOPE, false)],
        repeatable: false,
    },
    DirectiveSpec {
        name: "replica",
        locations: ROUTED,
        args: &[arg("maxLag", ArgType::Int, false)],
        repeatable: false,
    },
    DirectiveSpec {
        name: "primary",
        locations: ROUTED,
        args: &[],
        repeatable: false,
    },
    DirectiveSpec {
        name: "shard",
        locations: &[Location::Type],
        args: &[
            arg("key", ArgType::String, true),
            arg("strategy", STRATEGY, false),
        ],
        repeatable: false,
    },
    DirectiveSpec {
        name: "seed",
        locations: &[Location::Type],
        args: &[arg("rows", ArgType::Int, true)],
        repeatable: false,
    },
    DirectiveSpec {
        name: "auth",
        locations: &[
            Location::Type,
            Location::ScalarField,
            Location::RelationField,
        ],
        args: &[arg("requires", ArgType::String, false)],
        repeatable: false,
    },
    DirectiveSpec {
        name: "filter",
        locations: &[Location::Type],
        args: &[
            arg("column", ArgType::String, true),
            arg("claim", ArgType::String, true),
        ],
        repeatable: true,
    },
    DirectiveSpec {
        name: "insert",
        locations: &[Location::MutationField],
        args: &[],
        repeatable: false,
    },
    DirectiveSpec {
        name: "update",
        locations: &[Location::MutationField],
        args: &[],
        repeatable: false,
    },
    DirectiveSpec {
        name: "delete",
        locations: &[Location::MutationField],
        args: &[arg("type", ArgType::String, true)],
        repeatable: false,
    },
    DirectiveSpec {
        name: "resolver",
        locations: &[Location::QueryField, Location::MutationField],
        args: &[],
        repeatable: false,
    },
    DirectiveSpec {
        name: "writes",
        locations: &[Location::MutationField],
        args: &[arg("types", ArgType::StringList, true)],
        repeatable: false,
    },
];

/// Whether `name` is one of FraiseQL's directives (so a user's declaration of it is harmless).
pub fn is_known(name: &str) -> bool {
    SPECS.iter().any(|s| s.name == name)
}

/// A checked argument value.
#[derive(Clone, Debug, PartialEq)]
pub enum ArgValue {
    Int(i64),
    Boolean(bool),
    String(String),
    StringList(Vec<String>),
    Enum(String),
}

/// A directive whose name, location and arguments are known to be valid.
#[derive(Clone, Debug)]
pub struct Checked {
    pub name: String,
    pub pos: Pos,
    args: BTreeMap<String, ArgValue>,
}

impl Checked {
    /// An `Int` argument.
    pub fn int(&self, name: &str) -> Option<i64> {
        match self.args.get(name) {
            Some(ArgValue::Int(v)) => Some(*v),
            _ => None,
        }
    }

    /// A `Boolean` argument.
    pub fn boolean(&self, name: &str) -> Option<bool> {
        match self.args.get(name) {
            Some(ArgValue::Boolean(v)) => Some(*v),
            _ => None,
        }
    }

    /// A `String` argument.
    pub fn string(&self, name: &str) -> Option<&str> {
        match self.args.get(name) {
            Some(ArgValue::String(v)) => Some(v),
            _ => None,
        }
    }

    /// A `[String!]` argument.
    pub fn strings(&self, name: &str) -> Option<&[String]> {
        match self.args.get(name) {
            Some(ArgValue::StringList(v)) => Some(v),
            _ => None,
        }
    }

    /// An enum argument.
    pub fn enum_value(&self, name: &str) -> Option<&str> {
        match self.args.get(name) {
            Some(ArgValue::Enum(v)) => Some(v),
            _ => None,
        }
    }
}

/// The directives written at one place, checked; the invalid ones are reported and left out.
pub struct DirectiveSet {
    pub items: Vec<Checked>,
}

impl DirectiveSet {
    /// The one directive with this name, if present.
    pub fn get(&self, name: &str) -> Option<&Checked> {
        self.items.iter().find(|d| d.name == name)
    }

    /// Every directive with this name (for repeatable ones).
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Checked> + 'a {
        self.items.iter().filter(move |d| d.name == name)
    }
}

/// Checks the directives written at `location` (on `subject`, e.g. `Post.author`, for messages).
pub fn check(
    file: &str,
    subject: &str,
    location: Location,
    directives: &[Directive<'_, String>],
    errors: &mut Vec<SchemaError>,
) -> DirectiveSet {
    let mut items: Vec<Checked> = Vec::new();
    for directive in directives {
        let name = directive.name.as_str();
        let named: Vec<&DirectiveSpec> = SPECS.iter().filter(|s| s.name == name).collect();
        if named.is_empty() {
            errors.push(
                SchemaError::new(
                    file,
                    directive.position,
                    format!("unknown directive @{name} on {subject}"),
                )
                .with_hint_opt(
                    did_you_mean(name, SPECS.iter().map(|s| s.name), false)
                        .map(|h| h.replace("mean ", "mean @")),
                ),
            );
            continue;
        }
        let Some(spec) = named.iter().find(|s| s.locations.contains(&location)) else {
            let allowed: Vec<&str> = named
                .iter()
                .flat_map(|s| s.locations.iter().map(|l| l.describe()))
                .collect();
            errors.push(
                SchemaError::new(
                    file,
                    directive.position,
                    format!(
                        "@{name} is not allowed on {subject}, which is {}",
                        location.describe()
                    ),
                )
                .with_hint(format!("@{name} goes on {}", allowed.join(" or "))),
            );
            continue;
        };
        if !spec.repeatable && items.iter().any(|d| d.name == name) {
            errors.push(SchemaError::new(
                file,
                directive.position,
                format!("@{name} is written twice on {subject}"),
            ));
            continue;
        }
        if let Some(checked) = check_args(file, subject, spec, directive, errors) {
            items.push(checked);
        }
    }
    DirectiveSet { items }
}

fn check_args(
    file: &str,
    subject: &str,
    spec: &DirectiveSpec,
    directive: &Directive<'_, String>,
    errors: &mut Vec<SchemaError>,
) -> Option<Checked> {
    let before = errors.len();
    let pos = directive.position;
    let mut args = BTreeMap::new();
    for (name, value) in &directive.arguments {
        let Some(arg) = spec.args.iter().find(|a| a.name == name) else {
            let known: Vec<&str> = spec.args.iter().map(|a| a.name).collect();
            let hint = did_you_mean(name, known.iter().copied(), false).or_else(|| {
                Some(if known.is_empty() {
                    format!("@{} takes no arguments", spec.name)
                } else {
                    format!("@{} takes {}", spec.name, known.join(", "))
                })
            });
            errors.push(
                SchemaError::new(
                    file,
                    pos,
                    format!("unknown argument {name} of @{} on {subject}", spec.name),
                )
                .with_hint_opt(hint),
            );
            continue;
        };
        if args.contains_key(name) {
            errors.push(SchemaError::new(
                file,
                pos,
                format!("argument {name} of @{} is given twice", spec.name),
            ));
            continue;
        }
        match convert(value, arg.ty) {
            Some(Some(v)) => {
                args.insert(name.clone(), v);
            }
            // An explicit `null` is the same as leaving the argument out.
            Some(None) => {}
            None => errors.push(SchemaError::new(
                file,
                pos,
                format!(
                    "argument {name} of @{} on {subject} must be {}, not {}",
                    spec.name,
                    arg.ty.describe(),
                    describe_value(value)
                ),
            )),
        }
    }
    for arg in spec.args.iter().filter(|a| a.required) {
        if !args.contains_key(arg.name) && !directive.arguments.iter().any(|(n, _)| n == arg.name) {
            errors.push(SchemaError::new(
                file,
                pos,
                format!(
                    "@{} on {subject} is missing its required argument {}: {}!",
                    spec.name,
                    arg.name,
                    arg.ty.describe()
                ),
            ));
        } else if !args.contains_key(arg.name) && errors.len() == before {
            errors.push(SchemaError::new(
                file,
                pos,
                format!(
                    "argument {} of @{} on {subject} cannot be null",
                    arg.name, spec.name
                ),
            ));
        }
    }
    (errors.len() == before).then(|| Checked {
        name: spec.name.to_owned(),
        pos,
        args,
    })
}

/// The value as `ty`: `Some(None)` for `null`, `None` when it has the wrong type.
fn convert(value: &Value<'_, String>, ty: ArgType) -> Option<Option<ArgValue>> {
    Some(Some(match (value, ty) {
        (Value::Null, _) => return Some(None),
        (Value::Int(n), ArgType::Int) => ArgValue::Int(n.as_i64()?),
        (Value::Boolean(b), ArgType::Boolean) => ArgValue::Boolean(*b),
        (Value::String(s), ArgType::String) => ArgValue::String(s.clone()),
        (Value::List(items), ArgType::StringList) => ArgValue::StringList(
            items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Some(s.clone()),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()?,
        ),
        // A single string where a list is expected is coerced, as GraphQL does for inputs.
        (Value::String(s), ArgType::StringList) => ArgValue::StringList(vec![s.clone()]),
        (Value::Enum(e), ArgType::Enum(_, values)) if values.contains(&e.as_str()) => {
            ArgValue::Enum(e.clone())
        }
        _ => return None,
    }))
}

fn describe_value(value: &Value<'_, String>) -> String {
    match value {
        Value::Variable(v) => format!("a variable (${v})"),
        Value::Int(n) => format!("the Int {}", n.as_i64().unwrap_or_default()),
        Value::Float(f) => format!("the Float {f}"),
        Value::String(s) => format!("the String \"{s}\""),
        Value::Boolean(b) => format!("the Boolean {b}"),
        Value::Null => "null".into(),
        Value::Enum(e) => format!("the enum value {e}"),
        Value::List(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
    }
}
