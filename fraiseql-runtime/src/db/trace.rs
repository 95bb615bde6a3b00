//! Statement tracing by SQLite itself: with `FRAISEQL_SQLITE_TRACE=<file>` set, every SQLite
//! connection the process opens appends the text of each statement it starts to that file,
//! one line per statement. Tests and benchmarks count lines to prove how many statements a
//! query cost, without trusting our own bookkeeping.
//!
//! diesel 2.3 keeps the raw `sqlite3*` handle private, so the hook is installed with
//! `sqlite3_auto_extension`: SQLite calls it for every connection opened afterwards, with the
//! handle, and it registers `sqlite3_trace_v2(SQLITE_TRACE_STMT)`. diesel and this module link
//! the same (bundled) libsqlite3-sys, so the hook sees diesel's connections.

use std::ffi::{c_char, c_int, c_uint, c_void, CStr};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::sync::{Mutex, OnceLock};

use libsqlite3_sys as ffi;

use super::DbError;

/// The environment variable naming the trace file.
pub const TRACE_ENV: &str = "FRAISEQL_SQLITE_TRACE";

/// The open trace file; set once per process, on the first SQLite connect with the variable set.
static TRACE_FILE: OnceLock<Mutex<File>> = OnceLock::new();

/// Installs the hook when `FRAISEQL_SQLITE_TRACE` is set (once per process; later calls and a
/// changed variable have no effect).
pub(crate) fn install_from_env() -> Result<(), DbError> {
    let Some(path) = std::env::var_os(TRACE_ENV).filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    if TRACE_FILE.get().is_some() {
        return Ok(());
    }
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| {
            DbError::Other(format!(
                "cannot open {TRACE_ENV} file {}: {e}",
                std::path::Path::new(&path).display()
            ))
        })?;
    if TRACE_FILE.set(Mutex::new(file)).is_err() {
        // Another connect won the race and installed the hook.
        return Ok(());
    }
    // SAFETY: `register_trace` has the signature SQLite expects of an extension entry point
    // and stays valid for the life of the process.
    let rc = unsafe { ffi::sqlite3_auto_extension(Some(register_trace)) };
    if rc != ffi::SQLITE_OK {
        return Err(DbError::Other(format!(
            "sqlite3_auto_extension failed with code {rc}"
        )));
    }
    Ok(())
}

/// Extension entry point: SQLite calls it with each new connection's handle.
unsafe extern "C" fn register_trace(
    db: *mut ffi::sqlite3,
    _error: *mut *mut c_char,
    _api: *const ffi::sqlite3_api_routines,
) -> c_int {
    // SAFETY: `db` is the connection being opened, valid for this call; the callback needs no
    // context pointer.
    unsafe {
        ffi::sqlite3_trace_v2(
            db,
            ffi::SQLITE_TRACE_STMT,
            Some(on_statement),
            std::ptr::null_mut(),
        )
    }
}

/// `SQLITE_TRACE_STMT` callback: `text` is the statement's SQL as prepared (or a `-- `
/// comment for a trigger's statements). Never panics: it runs inside SQLite.
unsafe extern "C" fn on_statement(
    event: c_uint,
    _context: *mut c_void,
    _statement: *mut c_void,
    text: *mut c_void,
) -> c_int {
    if event != ffi::SQLITE_TRACE_STMT || text.is_null() {
        return 0;
    }
    // SAFETY: for SQLITE_TRACE_STMT, SQLite passes a NUL-terminated UTF-8 string valid for the
    // duration of the callback.
    let sql = unsafe { CStr::from_ptr(text as *const c_char) }.to_string_lossy();
    let mut line = sql.replace(['\n', '\r'], " ");
    line.push('\n');
    if let Some(file) = TRACE_FILE.get() {
        if let Ok(mut file) = file.lock() {
            // One write per line, so concurrent processes appending to one file do not
            // interleave within a line; a failed write only loses trace lines.
            let _ = file.write_all(line.as_bytes());
        }
    }
    0
}
