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
//! Shards are targets beside the primary and its replicas: [`RequestSessions::load_shards`] runs
//! one statement on several shards at once, each on the request's session for that shard
//! (taken when first needed, all missing ones concurrently). A mutation on a shard pins its
//! transaction's session there ([`RequestSessions::pinned_to`]); reads of reference tables
//! still go to the primary.

use std::time::Duration;

use futures_util::future::join_all;

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
    /// Shard `shard` (its position in `DATABASE_URL_SHARDS`); `replica`: one of that shard's
    /// own replicas (shards have none yet, so always `None`).
    Shard {
        /// The shard.
        shard: usize,
        /// The shard's replica, if the read goes to one.
        replica: Option<usize>,
    },
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
    /// One session per shard the request touched, by shard index.
    shards: Vec<Option<Session>>,
    /// A mutation whose transaction is on this shard (its session is in `shards`); `None`
    /// while `pinned`: the transaction is on the primary.
    pinned_shard: Option<usize>,
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
            shards: Vec::new(),
            pinned_shard: None,
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

    /// A mutation's sessions with its transaction's `session` on `target` (the primary or a
    /// shard): statements for that database run on it; nothing reads from replicas.
    pub fn pinned_to(
        database: &'a Database,
        target: Target,
        session: Session,
    ) -> RequestSessions<'a> {
        match target {
            Target::Shard { shard, .. } => {
                let mut shards: Vec<Option<Session>> = Vec::new();
                shards.resize_with(shard + 1, || None);
                shards[shard] = Some(session);
                RequestSessions {
                    pinned: true,
                    shards,
                    pinned_shard: Some(shard),
                    ..RequestSessions::new(database, None)
                }
            }
            Target::Primary | Target::Replica(_) => RequestSessions::pinned(database, session),
        }
    }

    /// The shard holding a mutation's transaction, if it runs on one.
    pub fn pinned_shard(&self) -> Option<usize> {
        self.pinned_shard
    }

    /// The database (with its replicas and shards) the sessions come from.
    pub fn database(&self) -> &'a Database {
        self.database
    }

    /// The session holding a mutation's transaction (see [`RequestSessions::pinned_to`]).
    pub async fn transaction(&mut self) -> Result<&mut Session, DbError> {
        match self.pinned_shard {
            Some(shard) => self
                .shards
                .get_mut(shard)
                .and_then(Option::as_mut)
                .ok_or_else(|| DbError::Other("the shard's transaction session is gone".into())),
            None => self.primary().await,
        }
    }

    /// Runs `sql` on each `(shard, binds)` of `work` (a shard at most once), all at once, and
    /// returns their rows in `work`'s order. The first failure fails the whole read: a merge
    /// of the shards that answered would be silently incomplete.
    pub async fn load_shards(
        &mut self,
        rows: &'static dyn RowLoader,
        sql: &str,
        work: &[(usize, Vec<Bind>)],
    ) -> Result<Vec<Box<dyn RowSet>>, DbError> {
        let database = self.database;
        let router = database
            .shard_router()
            .ok_or_else(|| DbError::Other("no shards are configured".into()))?;
        if self.shards.len() < router.count() {
            self.shards.resize_with(router.count(), || None);
        }
        let missing: Vec<usize> = work
            .iter()
            .map(|(shard, _)| *shard)
            .filter(|&shard| matches!(self.shards.get(shard), Some(None)))
            .collect();
        if !missing.is_empty() {
            let taken = join_all(missing.iter().map(|&shard| async move {
                match router.database(shard) {
                    Some(db) => db.session().await,
                    None => Err(DbError::Other(format!("no shard {shard}"))),
                }
            }))
            .await;
            let mut first_error = None;
            for (shard, result) in missing.into_iter().zip(taken) {
                match result {
                    Ok(session) => self.shards[shard] = Some(session),
                    Err(error) => {
                        tracing::error!(shard, %error, "no database session on a shard");
                        first_error.get_or_insert(error);
                    }
                }
            }
            if let Some(error) = first_error {
                return Err(error);
            }
        }
        let mut slots: Vec<Option<&mut Session>> =
            self.shards.iter_mut().map(Option::as_mut).collect();
        let mut runs = Vec::with_capacity(work.len());
        for (shard, binds) in work {
            let Some(session) = slots.get_mut(*shard).and_then(Option::take) else {
                return Err(DbError::Other(format!(
                    "shard {shard} is missing or named twice in one read"
                )));
            };
            let shard = *shard;
            runs.push(async move {
                session.load(rows, sql, binds).await.map_err(|error| {
                    tracing::error!(shard, %error, "a read failed on a shard");
                    error
                })
            });
        }
        join_all(runs).await.into_iter().collect()
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
