//! Demo values for `seed`: chosen by a column's kind and name, so a `name` reads like a name
//! and a `title` like a title. Every value is a pure function of (table, column, row number),
//! through splitmix64, so a seed is the same on every machine and in any insertion order.

use crate::db::Bind;
use crate::model::{ColumnModel, ScalarKind, SchemaModel};

const FIRST_NAMES: &[&str] = &[
    "Ada",
    "Alan",
    "Barbara",
    "Claude",
    "Dennis",
    "Edsger",
    "Frances",
    "Grace",
    "Hedy",
    "Ivan",
    "Joan",
    "Ken",
    "Linus",
    "Margaret",
    "Niklaus",
    "Ole",
    "Radia",
    "Sophie",
    "Tim",
    "Whitfield",
];
const LAST_NAMES: &[&str] = &[
    "Lovelace",
    "Turing",
    "Liskov",
    "Shannon",
    "Ritchie",
    "Dijkstra",
    "Allen",
    "Hopper",
    "Lamarr",
    "Sutherland",
    "Clarke",
    "Thompson",
    "Torvalds",
    "Hamilton",
    "Wirth",
    "Dahl",
    "Perlman",
    "Wilson",
    "Berners-Lee",
    "Diffie",
];
const ADJECTIVES: &[&str] = &[
    "quick",
    "quiet",
    "brave",
    "careful",
    "curious",
    "early",
    "gentle",
    "hidden",
    "lazy",
    "modern",
    "patient",
    "practical",
    "simple",
    "steady",
    "subtle",
    "tidy",
];
const NOUNS: &[&str] = &[
    "index",
    "query",
    "schema",
    "cache",
    "replica",
    "cursor",
    "planner",
    "server",
    "table",
    "column",
    "join",
    "batch",
    "pool",
    "shard",
    "migration",
    "benchmark",
];
const VERBS: &[&str] = &[
    "explains",
    "improves",
    "outlives",
    "replaces",
    "scales",
    "speeds up",
    "simplifies",
    "tames",
    "tests",
    "untangles",
];

/// The first timestamp seeded (2024-01-01T00:00:00Z); row `i` is about `i` × 10 minutes later.
const BASE_MILLIS: i64 = 1_704_067_200_000;

/// splitmix64's output function: a well-mixed 64-bit value from any input.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A stable number per name (FNV-1a), so adding a table does not change another's values.
fn name_seed(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The random draws of one cell.
struct Draws(u64);

impl Draws {
    fn new(table: &str, column: &str, row: u64) -> Draws {
        Draws(mix(name_seed(table) ^ mix(name_seed(column) ^ mix(row))))
    }
    fn next(&mut self) -> u64 {
        self.0 = mix(self.0);
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        // `n` is a small list length; the modulo bias is irrelevant for demo data.
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick(&mut self, words: &[&'static str]) -> &'static str {
        words[self.below(words.len())]
    }
}

/// The value of column `column` in row `row` (1-based) of `table`. Foreign keys and the key
/// are set by the caller; nullable columns are NULL in one row out of seven.
pub(super) fn value(
    model: &SchemaModel,
    table: &str,
    column: &ColumnModel,
    row: u64,
) -> Option<Bind> {
    let mut draws = Draws::new(table, column.name, row);
    if column.nullable && draws.next().is_multiple_of(7) {
        return None;
    }
    let name = column.name.to_ascii_lowercase();
    let bind = match column.kind {
        ScalarKind::Id | ScalarKind::ForeignKey => Bind::BigInt(row as i64),
        ScalarKind::Int => {
            let top = if name.contains("view") || name.contains("count") {
                10_000
            } else {
                1_000
            };
            Bind::Integer(draws.below(top) as i32)
        }
        ScalarKind::Float => {
            if name.contains("rating") || name.contains("score") {
                Bind::Double(1.0 + draws.below(41) as f64 / 10.0)
            } else {
                Bind::Double(draws.below(100_000) as f64 / 100.0)
            }
        }
        ScalarKind::Boolean => {
            // Three out of four published, so a `published = true` index has work to do.
            Bind::Bool(draws.below(4) != 0)
        }
        ScalarKind::DateTime => Bind::Text(timestamp(row, &mut draws)),
        ScalarKind::Json => Bind::Text(format!(
            "{{\"seed\":{row},\"tags\":[\"{}\",\"{}\"],\"featured\":{}}}",
            draws.pick(NOUNS),
            draws.pick(ADJECTIVES),
            draws.below(5) == 0
        )),
        ScalarKind::Enum(e) => {
            let values = model.enums.get(e).map_or(&[][..], |e| e.values);
            let value = values
                .get((row as usize - 1) % values.len().max(1))
                .copied();
            Bind::Text(value.unwrap_or("").to_string())
        }
        ScalarKind::String => Bind::Text(text(&name, table, row, &mut draws)),
    };
    Some(match (bind, column.max_length) {
        (Bind::Text(text), Some(max)) => Bind::Text(truncate(text, max as usize)),
        (bind, _) => bind,
    })
}

fn text(name: &str, table: &str, row: u64, draws: &mut Draws) -> String {
    // The person of a row, shared by `name` and `email` of the same row.
    let mut person = Draws::new(table, "person", row);
    let (first, last) = (person.pick(FIRST_NAMES), person.pick(LAST_NAMES));
    if name == "email" || name.ends_with("_email") {
        // The row number keeps every address unique.
        let local = format!("{first}.{last}{row}").to_ascii_lowercase();
        return format!(
            "{}@example.com",
            local.replace(|c: char| !c.is_ascii_alphanumeric() && c != '.', "")
        );
    }
    if name == "name" || name.ends_with("_name") || name == "author" {
        return format!("{first} {last}");
    }
    if name.contains("title") || name.contains("subject") || name.contains("headline") {
        let title = format!(
            "The {} {} that {} the {}",
            draws.pick(ADJECTIVES),
            draws.pick(NOUNS),
            draws.pick(VERBS),
            draws.pick(NOUNS)
        );
        return capitalize(&title);
    }
    if name.contains("url") || name.contains("link") {
        return format!("https://example.com/{table}/{row}");
    }
    if [
        "body",
        "bio",
        "description",
        "content",
        "text",
        "summary",
        "comment",
    ]
    .iter()
    .any(|w| name.contains(w))
    {
        let sentences = 1 + draws.below(3);
        let mut body = String::new();
        for i in 0..sentences {
            if i > 0 {
                body.push(' ');
            }
            body.push_str(&capitalize(&format!(
                "a {} {} {} every {} {}.",
                draws.pick(ADJECTIVES),
                draws.pick(NOUNS),
                draws.pick(VERBS),
                draws.pick(ADJECTIVES),
                draws.pick(NOUNS)
            )));
        }
        return body;
    }
    format!(
        "{} {} {row}",
        draws.pick(ADJECTIVES),
        name.replace('_', " ")
    )
}

/// Canonical DateTime text (`YYYY-MM-DDTHH:MM:SS.mmmZ`), increasing with the row number.
fn timestamp(row: u64, draws: &mut Draws) -> String {
    let millis = BASE_MILLIS + row as i64 * 600_000 + draws.below(600_000) as i64;
    chrono::DateTime::from_timestamp_millis(millis)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        // Unreachable for any row count that fits in memory; the base date keeps it valid.
        .unwrap_or_else(|| "2024-01-01T00:00:00.000Z".to_string())
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn truncate(mut s: String, max_chars: usize) -> String {
    if let Some((at, _)) = s.char_indices().nth(max_chars) {
        s.truncate(at);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::{mix, timestamp, truncate, Draws};

    #[test]
    fn values_are_deterministic_and_canonical() {
        assert_eq!(mix(0), 0xE220_A839_7B1D_CDAF);
        let a = timestamp(1, &mut Draws::new("posts", "created_at", 1));
        let b = timestamp(1, &mut Draws::new("posts", "created_at", 1));
        assert_eq!(a, b);
        assert_eq!(a.len(), "2024-01-01T00:10:00.000Z".len());
        assert!(a.starts_with("2024-01-01T00:") && a.ends_with('Z'), "{a}");
        assert_eq!(truncate("héllo".into(), 2), "hé");
    }
}
