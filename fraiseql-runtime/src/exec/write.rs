//! Writes the response's `data` straight from typed rows into one buffer: keys from the plan,
//! values from the generated `Row::write_column`, nested lists from the grouped child rows.

use apollo_compiler::response::{GraphQLError, JsonMap, JsonValue, ResponseDataPathSegment};
use apollo_compiler::Name;

use super::load::Loaded;
use crate::model::{RelationKind, SchemaModel};
use crate::plan::{write_cursor, FetchNode, OutputField};
use crate::row::json;

/// What writing reads and where field errors go.
pub(crate) struct Writer<'a> {
    pub model: &'static SchemaModel,
    pub variables: &'a JsonMap,
    pub errors: Vec<GraphQLError>,
    pub path: Vec<ResponseDataPathSegment>,
}

impl Writer<'_> {
    /// A list of all the rows of a root node.
    pub fn root_list(&mut self, out: &mut Vec<u8>, node: &FetchNode, loaded: &Loaded) {
        out.push(b'[');
        for row in 0..loaded.rows.len() {
            if row > 0 {
                out.push(b',');
            }
            self.path.push(ResponseDataPathSegment::ListIndex(row));
            self.object(out, node, loaded, row);
            self.path.pop();
        }
        out.push(b']');
    }

    /// The first row of a root node, or `null`.
    pub fn root_single(&mut self, out: &mut Vec<u8>, node: &FetchNode, loaded: &Loaded) {
        if loaded.rows.is_empty() {
            json::null(out);
        } else {
            self.object(out, node, loaded, 0);
        }
    }

    /// One row as an object with the plan's response keys, in selection order.
    fn object(&mut self, out: &mut Vec<u8>, node: &FetchNode, loaded: &Loaded, row: usize) {
        let ty = &self.model.types[node.type_index];
        out.push(b'{');
        let mut first = true;
        for (index, field) in node.fields.iter().enumerate() {
            let (key, inclusion) = match field {
                OutputField::Column { key, inclusion, .. }
                | OutputField::Typename { key, inclusion }
                | OutputField::Cursor { key, inclusion }
                | OutputField::Relation { key, inclusion, .. } => (key, inclusion),
            };
            if !inclusion.holds(self.variables) {
                continue;
            }
            if !first {
                out.push(b',');
            }
            first = false;
            json::key(out, key.as_str());
            match field {
                OutputField::Column { column, .. } => loaded.rows.write_column(row, *column, out),
                OutputField::Typename { .. } => json::escape_into(out, ty.name),
                OutputField::Cursor { .. } => {
                    write_cursor(out, ty, &loaded.order, loaded.rows.as_ref(), row)
                }
                OutputField::Relation { node: child, .. } => {
                    self.path.push(ResponseDataPathSegment::Field(key.clone()));
                    self.relation(out, child, loaded, index, row);
                    self.path.pop();
                }
            }
        }
        out.push(b'}');
    }

    fn relation(
        &mut self,
        out: &mut Vec<u8>,
        child: &FetchNode,
        parent: &Loaded,
        index: usize,
        row: usize,
    ) {
        let (Some(Some(children)), Some(link)) = (parent.children.get(index), child.link) else {
            json::null(out);
            return;
        };
        let key = parent.rows.int_column(row, link.parent_column);
        let rows = children.of(key);
        match link.kind {
            RelationKind::HasMany => {
                out.push(b'[');
                for (i, &child_row) in rows.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    self.path.push(ResponseDataPathSegment::ListIndex(i));
                    self.object(out, child, &children.loaded, child_row as usize);
                    self.path.pop();
                }
                out.push(b']');
            }
            RelationKind::BelongsTo => match rows.first() {
                Some(&child_row) => self.object(out, child, &children.loaded, child_row as usize),
                None => {
                    json::null(out);
                    if !link.nullable {
                        // Only possible without a foreign-key constraint (or in a race with a
                        // delete): report it rather than invent a row.
                        let id = crate::graphql::internal::report(
                            "a required related row is missing",
                            &child.path,
                        );
                        self.internal_error(&id);
                    }
                }
            },
        }
    }

    /// Records an error at the current path.
    pub fn field_error(&mut self, message: &str, code: &str) {
        let mut error = GraphQLError::new(message, None, &Default::default());
        error.path = self.path.clone();
        error.extensions.insert("code", JsonValue::from(code));
        self.errors.push(error);
    }

    /// Records an internal error (already logged under `id`) at the current path.
    pub fn internal_error(&mut self, id: &str) {
        use crate::graphql::internal;
        self.field_error(internal::INTERNAL_MESSAGE, internal::INTERNAL_SERVER_ERROR);
        if let Some(error) = self.errors.last_mut() {
            error.extensions.insert("errorId", JsonValue::from(id));
        }
    }

    /// Records an error at root field `key`.
    pub fn root_error(&mut self, key: &Name, failure: &super::RootFailure) {
        self.path.clear();
        self.path.push(ResponseDataPathSegment::Field(key.clone()));
        self.field_error(&failure.message, failure.code);
        if let (Some(field), Some(error)) = (&failure.field, self.errors.last_mut()) {
            error
                .extensions
                .insert("field", JsonValue::from(field.as_str()));
        }
        if let (Some(id), Some(error)) = (&failure.error_id, self.errors.last_mut()) {
            error
                .extensions
                .insert("errorId", JsonValue::from(id.as_str()));
        }
        self.path.clear();
    }
}
