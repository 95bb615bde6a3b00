//! Keyset cursors. A cursor is opaque to clients: base64url of
//! `{"k":[<ordering columns>],"v":[<the row's values of them, as written in responses>]}`.
//! Naming the columns lets a cursor from another ordering be refused instead of silently
//! paging wrong.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::input::Input;
use super::sql::{to_bind, OrderKey};
use crate::db::Bind;
use crate::model::TypeModel;
use crate::row::{json, RowSet};

/// Writes the cursor of row `index` as a JSON string.
pub(crate) fn write(
    out: &mut Vec<u8>,
    ty: &TypeModel,
    order: &[OrderKey],
    rows: &dyn RowSet,
    index: usize,
) {
    let mut raw = Vec::with_capacity(64);
    raw.extend_from_slice(b"{\"k\":[");
    for (i, key) in order.iter().enumerate() {
        if i > 0 {
            raw.push(b',');
        }
        json::escape_into(&mut raw, ty.columns[key.column].name);
    }
    raw.extend_from_slice(b"],\"v\":[");
    for (i, key) in order.iter().enumerate() {
        if i > 0 {
            raw.push(b',');
        }
        rows.write_column(index, key.column, &mut raw);
    }
    raw.extend_from_slice(b"]}");
    out.push(b'"');
    out.extend_from_slice(URL_SAFE_NO_PAD.encode(&raw).as_bytes());
    out.push(b'"');
}

/// Decodes a cursor for `order`: one value per key (`None` = NULL).
pub(crate) fn decode(
    text: &str,
    ty: &TypeModel,
    order: &[OrderKey],
) -> Result<Vec<Option<Bind>>, String> {
    let invalid = || "`after` is not a cursor this API issued".to_string();
    let raw = URL_SAFE_NO_PAD.decode(text.trim()).map_err(|_| invalid())?;
    let value: apollo_compiler::response::JsonValue =
        serde_json::from_slice(&raw).map_err(|_| invalid())?;
    let (Some(keys), Some(values)) = (
        value.get("k").and_then(|k| k.as_array()),
        value.get("v").and_then(|v| v.as_array()),
    ) else {
        return Err(invalid());
    };
    let names: Vec<&str> = keys.iter().filter_map(|k| k.as_str()).collect();
    let expected: Vec<&str> = order.iter().map(|k| ty.columns[k.column].name).collect();
    if names != expected || values.len() != order.len() {
        return Err(
            "`after` is a cursor for a different orderBy; use cursors from this list".into(),
        );
    }
    order
        .iter()
        .zip(values)
        .map(|(key, value)| {
            if value.is_null() {
                Ok(None)
            } else {
                to_bind(Input::Json(value), ty.columns[key.column].kind)
                    .map(Some)
                    .map_err(|_| invalid())
            }
        })
        .collect()
}
