//! `@filter(column:, claim:)` on table types, resolved once every table's columns are known
//! (hidden foreign-key columns included): the column must exist and hold a value a claim can
//! be compared with (text, an enum, an integer or an ID), and each column is filtered once.
//! `@auth` is read with the other directives of its type or field (`types.rs`).

use super::types::Draft;
use super::Ctx;
use crate::model::{Kind, RowFilter};
use crate::naming::did_you_mean;

pub(crate) fn resolve(ctx: &mut Ctx<'_>, drafts: &mut [Draft]) {
    for draft in drafts.iter_mut() {
        let filters: Vec<_> = draft.directives.all("filter").cloned().collect();
        for d in filters {
            let column_name = d.string("column").unwrap_or_default();
            let claim = d.string("claim").unwrap_or_default().trim().to_owned();
            let owner = draft.table.name.clone();
            let Some(column) = draft.table.column_named(column_name) else {
                let names = draft.table.columns.iter().map(|c| c.name.as_str());
                let hint = did_you_mean(column_name, names, true).or_else(|| {
                    Some(format!(
                        "add the column to {owner} (e.g. `tenantId: String!` maps to tenant_id), or name one it has"
                    ))
                });
                let message = format!(
                    "@filter on {owner} names column \"{column_name}\", which is not a column of {}",
                    draft.table.table
                );
                ctx.error(&draft.file, d.pos, message).hint = hint;
                continue;
            };
            let c = &draft.table.columns[column];
            if !matches!(
                c.kind,
                Kind::String | Kind::Enum(_) | Kind::Int | Kind::Id | Kind::ForeignKey
            ) {
                let message = format!(
                    "@filter on {owner} names column \"{column_name}\", a {} column; a row filter compares a claim with text, an enum, an Int or an ID",
                    c.graphql_type
                );
                ctx.error(&draft.file, d.pos, message);
                continue;
            }
            if claim.is_empty() {
                let message = format!("@filter on {owner} names an empty claim");
                ctx.error(&draft.file, d.pos, message).hint =
                    Some("name the token claim holding the value, e.g. claim: \"tenant\"".into());
                continue;
            }
            if draft
                .table
                .access
                .filters
                .iter()
                .any(|f| f.column == column)
            {
                let message = format!("@filter on {owner} filters column \"{column_name}\" twice");
                ctx.error(&draft.file, d.pos, message).hint =
                    Some("keep one @filter per column".into());
                continue;
            }
            draft.table.access.filters.push(RowFilter { column, claim });
        }
    }
}
