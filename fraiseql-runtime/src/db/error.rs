//! Database failures: what went wrong, with context for the logs, and what a client may see
//! ([`DbError::public_message`], [`DbError::code`]): never SQL, never a path.

use std::time::Duration;

/// A database failure, with context; [`DbError::public_message`] is what a client may see.
/// Cloned when one failure answers several statements (a request that could not get a session
/// reports it for each of its fields).
#[derive(Clone, Debug, thiserror::Error)]
pub enum DbError {
    /// The URL could not be understood.
    #[error("invalid DATABASE_URL: {0}")]
    InvalidUrl(String),
    /// Could not connect.
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    /// No connection became free within the acquire timeout.
    #[error("no database connection free within {0:?}")]
    PoolTimeout(Duration),
    /// A write reached a server that only reads (a standby: the primary failed over behind
    /// the URL). The pool has been recycled; the write may be retried once on a new session.
    #[error("the database is read-only: {message}")]
    ReadOnly {
        /// The database's message (server logs only).
        message: String,
    },
    /// The server cancelled a statement that ran past `statement_timeout` (or waited past
    /// `lock_timeout`). The connection stays usable.
    #[error("statement cancelled by the server: {message}")]
    Timeout {
        /// The database's message (server logs only).
        message: String,
    },
    /// A standby cancelled a read that conflicted with the WAL it was replaying (a row version
    /// the read needed was removed). The same read may run on another server.
    #[error("statement cancelled by a recovery conflict: {message}")]
    RecoveryConflict {
        /// The database's message (server logs only).
        message: String,
    },
    /// A write broke a constraint of the table.
    #[error("constraint violated ({kind:?}): {message}")]
    Constraint {
        /// Which kind of constraint.
        kind: ConstraintKind,
        /// The constraint's name, when the database reports it (PostgreSQL).
        constraint: Option<String>,
        /// The column, when the database reports it (PostgreSQL `NOT NULL`; SQLite's message).
        column: Option<String>,
        /// The database's message (server logs only).
        message: String,
    },
    /// A statement failed.
    #[error("statement failed: {message}")]
    Query {
        /// The database's message (server logs only: it may quote SQL).
        message: String,
    },
    /// Anything else (a blocking task that failed to join, …).
    #[error("database error: {0}")]
    Other(String),
}

/// The kinds of constraint a write can break.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConstraintKind {
    /// A unique index or primary key.
    Unique,
    /// A foreign key (the referenced row is missing, or the row is still referenced).
    ForeignKey,
    /// `NOT NULL`.
    NotNull,
    /// `CHECK`.
    Check,
}

impl DbError {
    /// A message safe to show a client: never SQL, never a path.
    pub fn public_message(&self) -> &'static str {
        match self {
            DbError::PoolTimeout(_) => "the database is busy; retry shortly",
            DbError::Connect(_) => "the database is unavailable",
            DbError::ReadOnly { .. } => "the database is read-only right now; retry shortly",
            DbError::Timeout { .. } => "the database took too long and cancelled the statement",
            DbError::RecoveryConflict { .. } => "a replica cancelled the read; retry shortly",
            DbError::Constraint { kind, .. } => match kind {
                ConstraintKind::Unique => "a row with the same unique value already exists",
                ConstraintKind::ForeignKey => {
                    "a referenced row does not exist, or the row is still referenced"
                }
                ConstraintKind::NotNull => "a required value is missing",
                ConstraintKind::Check => "a value breaks a check constraint of the table",
            },
            _ => "internal database error",
        }
    }

    /// The stable `extensions.code` clients see for this failure.
    pub fn code(&self) -> &'static str {
        match self {
            DbError::PoolTimeout(_)
            | DbError::Connect(_)
            | DbError::ReadOnly { .. }
            | DbError::RecoveryConflict { .. } => "SERVICE_UNAVAILABLE",
            DbError::Timeout { .. } => "TIMEOUT",
            DbError::Constraint { kind, .. } => match kind {
                ConstraintKind::Unique => "CONFLICT",
                ConstraintKind::ForeignKey | ConstraintKind::NotNull | ConstraintKind::Check => {
                    "INVALID_INPUT"
                }
            },
            _ => "INTERNAL_SERVER_ERROR",
        }
    }

    /// The connection broke (or could not be opened): a retry on a new connection may work.
    pub fn is_connection_lost(&self) -> bool {
        matches!(self, DbError::Connect(_))
    }

    /// A standby cancelled the read (SQLSTATE 40001 from a recovery conflict): another server
    /// may answer it.
    pub fn is_recovery_conflict(&self) -> bool {
        matches!(self, DbError::RecoveryConflict { .. })
    }

    /// A write reached a read-only server (SQLSTATE 25006). The session that saw it has
    /// already recycled its pool and will not return its connection; a mutation may run again,
    /// once, on a new [`super::Database::session`]. See [`super::Database::recycle`].
    pub fn is_read_only(&self) -> bool {
        matches!(self, DbError::ReadOnly { .. })
    }
}

impl From<diesel::result::Error> for DbError {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match &error {
            // The connection itself is gone (server restart, network): the database is
            // unavailable rather than the statement wrong, so clients get a retryable answer.
            // The pool discards such a connection when the session ends.
            Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                _,
            ) => DbError::Connect(error.to_string()),
            Error::DatabaseError(DatabaseErrorKind::ReadOnlyTransaction, _) => DbError::ReadOnly {
                message: error.to_string(),
            },
            Error::DatabaseError(kind, info) => {
                let kind = match kind {
                    DatabaseErrorKind::UniqueViolation => ConstraintKind::Unique,
                    DatabaseErrorKind::ForeignKeyViolation => ConstraintKind::ForeignKey,
                    DatabaseErrorKind::NotNullViolation => ConstraintKind::NotNull,
                    DatabaseErrorKind::CheckViolation => ConstraintKind::Check,
                    _ => return unclassified(info.message(), error.to_string()),
                };
                DbError::Constraint {
                    kind,
                    constraint: info.constraint_name().map(str::to_owned),
                    column: info
                        .column_name()
                        .map(str::to_owned)
                        .or_else(|| sqlite_constraint_column(info.message())),
                    message: error.to_string(),
                }
            }
            _ => DbError::Query {
                message: error.to_string(),
            },
        }
    }
}

/// A database error diesel has no kind for. diesel-async keeps the SQLSTATE to itself (it
/// maps only the constraint codes, 40001 and 25006 to kinds), so the few we act on are known by
/// the server's message, which is English unless an administrator set `lc_messages` otherwise
/// (then they stay [`DbError::Query`]: an internal error, never a wrong retry):
/// - 57014 `canceling statement due to statement timeout` (and `lock timeout`);
/// - 57P01/57P02/25P03 `terminating connection due to …`, 57P03 `the database system is …`
///   (shutting down, starting up, in recovery): the connection is gone;
/// - 40001 `canceling statement due to conflict with recovery` (a hot standby replaying WAL
///   that removes what the read needed): the read may run elsewhere.
fn unclassified(server_message: &str, message: String) -> DbError {
    if server_message.starts_with("canceling statement due to statement timeout")
        || server_message.starts_with("canceling statement due to lock timeout")
    {
        DbError::Timeout { message }
    } else if server_message.starts_with("canceling statement due to conflict with recovery") {
        DbError::RecoveryConflict { message }
    } else if server_message.starts_with("terminating connection")
        || server_message.starts_with("the database system is")
    {
        DbError::Connect(message)
    } else {
        DbError::Query { message }
    }
}

/// The column SQLite names in `UNIQUE constraint failed: users.email` or
/// `NOT NULL constraint failed: posts.title` (the first, for a multi-column index).
fn sqlite_constraint_column(message: &str) -> Option<String> {
    let (_, rest) = message.split_once("constraint failed: ")?;
    let first = rest.split(',').next()?.trim();
    let (_, column) = first.split_once('.')?;
    Some(column.to_owned())
}
