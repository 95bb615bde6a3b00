//! [`RequestSessions`]: the sessions one request holds, one per server it touched, and the
//! choice of server for each read.
//!
//! A statement's `Route` (from the planner) says whether it may run on a replica and within
//! which lag; [`ReplicaSet::choose`] picks the replica. A request keeps the replica it first
//! got for as long as that one stays eligible, so the levels of one nested query read one
//! server's data. A read that fails on a replica with a connection-class error (connection
//! refused or lost, the server starting up or shutting down, the pool out of time), cancelled
//! by a recovery conflict, or still waiting when the probe takes the replica out of rotation (a
//! server that stopped answering without closing its sockets) runs again on another replica,
//! then on the primary: a dead replica never fails a read. A mutation pins everything to its
//! transaction's session on the primary.
//!
//! Targets are an enum so that shards can be added beside replicas: a shard is one more kind of
//! target (its own primary and replica set), chosen from the statement's shard key.

use std::time::Duration;

use super::replica::{Lsn, ReplicaSet};
use super::{Bind, Database, DbError, Session};
use crate::model::Route;
use crate::row::{RowLoader, RowSet};

/// A server a statement can run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// The primary.
    Primary,
    /// Replica `i` (its position in `DATABASE_URL_REPLICA`).
    Replica(usize),
}

/// The sessions of one request, taken when first needed and returned to their pools when it
/// ends.
pub struct RequestSessions<'a> {
    database: &'a Database,
    /// The client's consistency token: replicas must have replayed it.
    token: Option<Lsn>,
    /// A mutation: every statement on the primary session (its transaction).
    pinned: bool,
    primary: Option<Session>,
    /// Why the primary could not be had (asked once per request, not once per statement).
    primary_error: Option<DbError>,
    replica: Option<(usize, Session)>,
    /// Replicas that failed during this request.
    failed: Vec<usize>,
}

impl<'a> RequestSessions<'a> {
    /// Sessions for a query. `token`: the client's consistency token, if it sent one.
    pub fn new(database: &'a Database, token: Option<Lsn>) -> RequestSessions<'a> {
        RequestSessions {
            database,
            token,
            pinned: false,
            primary: None,
            primary_error: None,
            replica: None,
            failed: Vec::new(),
        }
    }

    /// Every statement on `session` (a mutation's transaction on the primary).
    pub fn pinned(database: &'a Database, session: Session) -> RequestSessions<'a> {
        RequestSessions {
            pinned: true,
            primary: Some(session),
            ..RequestSessions::new(database, None)
        }
    }

    /// The primary's session, taken now if not yet.
    pub async fn primary(&mut self) -> Result<&mut Session, DbError> {
        if let Some(error) = &self.primary_error {
            return Err(error.clone());
        }
        if self.primary.is_none() {
            match self.database.session().await {
                Ok(session) => self.primary = Some(session),
                Err(error) => {
                    tracing::error!(%error, "no database session for the request");
                    self.primary_error = Some(error.clone());
                    return Err(error);
                }
            }
        }
        self.primary
            .as_mut()
            .ok_or_else(|| DbError::Other("the primary session is gone".into()))
    }

    /// Takes the primary's session out (a custom resolver owns it while it runs); give it back
    /// with [`RequestSessions::put_primary`].
    pub async fn take_primary(&mut self) -> Result<Session, DbError> {
        self.primary().await?;
        self.primary
            .take()
            .ok_or_else(|| DbError::Other("the primary session is gone".into()))
    }

    /// Gives back what [`RequestSessions::take_primary`] took.
    pub fn put_primary(&mut self, session: Session) {
        self.primary = Some(session);
    }

    /// Where a read with `route` goes now (the replica it keeps, another eligible one, or the
    /// primary).
    pub fn target(&self, route: Route) -> Target {
        if self.pinned {
            return Target::Primary;
        }
        let Some(set) = self.database.replica_set() else {
            return Target::Primary;
        };
        let Some(max_lag) = set.routing().replica_bound(route) else {
            return Target::Primary;
        };
        self.replica_for(set, max_lag)
    }

    fn replica_for(&self, set: &ReplicaSet, max_lag: Duration) -> Target {
        if let Some((kept, _)) = &self.replica {
            if set.eligible(*kept, max_lag, self.token) {
                return Target::Replica(*kept);
            }
        }
        match set.choose(max_lag, self.token, &self.failed) {
            Some(i) => Target::Replica(i),
            None => Target::Primary,
        }
    }

    /// Runs a read with `route` and loads its rows, on a replica when the route allows one
    /// that qualifies, else on the primary; see the module docs for what happens on failure.
    pub async fn load(
        &mut self,
        route: Route,
        rows: &'static dyn RowLoader,
        sql: &str,
        binds: &[Bind],
    ) -> Result<Box<dyn RowSet>, DbError> {
        let database = self.database;
        loop {
            let Target::Replica(index) = self.target(route) else {
                return self.primary().await?.load(rows, sql, binds).await;
            };
            let Some(set) = database.replica_set() else {
                return self.primary().await?.load(rows, sql, binds).await;
            };
            let result = set
                .unless_it_leaves(index, async {
                    self.replica_session(index)
                        .await?
                        .load(rows, sql, binds)
                        .await
                })
                .await;
            match result {
                Ok(rows) => return Ok(rows),
                Err(error) if retry_elsewhere(&error) => self.replica_failed(index, &error),
                Err(error) => return Err(error),
            }
        }
    }

    /// The session on replica `index`, replacing the one kept for another replica.
    async fn replica_session(&mut self, index: usize) -> Result<&mut Session, DbError> {
        if !matches!(&self.replica, Some((kept, _)) if *kept == index) {
            // Dropped first: a request holds one replica connection at a time.
            self.replica = None;
            let replica = self
                .database
                .replica_set()
                .and_then(|set| set.get(index))
                .ok_or_else(|| DbError::Other(format!("no replica {index}")))?;
            let session = replica.database.session().await?;
            self.replica = Some((index, session));
        }
        match &mut self.replica {
            Some((_, session)) => Ok(session),
            None => Err(DbError::Other("the replica session is gone".into())),
        }
    }

    fn replica_failed(&mut self, index: usize, error: &DbError) {
        tracing::warn!(replica = index, %error, "a read failed on a replica; running it elsewhere");
        if let Some((kept, mut session)) = self.replica.take() {
            if kept == index {
                // Its statement may have been abandoned midway: never back into the pool.
                session.discard();
            } else {
                self.replica = Some((kept, session));
            }
        }
        self.failed.push(index);
        if !error.is_recovery_conflict() {
            if let Some(set) = self.database.replica_set() {
                set.mark_down(index, error);
            }
        }
    }
}

/// Whether a read that failed on a replica may succeed elsewhere: the replica (or the way to
/// it) failed, not the statement.
fn retry_elsewhere(error: &DbError) -> bool {
    error.is_connection_lost()
        || matches!(error, DbError::PoolTimeout(_) | DbError::Other(_))
        || error.is_recovery_conflict()
}
