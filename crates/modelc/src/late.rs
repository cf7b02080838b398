//! Late renders at run time: a node whose template asks the database
//! (`run_query`, `adapter.get_columns_in_relation`, ...) is rendered again just
//! before it runs, on a connection of its own, so its answers come from the
//! relations this run has built, as in dbt.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use modelc_compile::defer::{self, Deferred};
use modelc_compile::late::{DbColumn, External, QueryTable};
use modelc_compile::Project;
use modelc_core::{Hook, Node, Relation};
use modelc_exec::{Adapter, Connection, LateRender};

/// Renders late nodes of `project` against the run's database.
pub struct RunTimeRender<'a> {
    pub project: &'a Project,
    pub adapter: &'a dyn Adapter,
    /// `--defer`: the nodes whose refs read another environment's relations, and
    /// which ([`modelc_compile::defer`]).
    pub deferred: Option<(&'a BTreeMap<String, Node>, &'a [Deferred])>,
}

impl RunTimeRender<'_> {
    /// A connection of the render's own, for its questions.
    fn database(&self) -> Result<Arc<dyn External>, String> {
        let conn = self.adapter.connect().map_err(|e| e.to_string())?;
        Ok(Arc::new(ConnDb(Mutex::new(conn))))
    }
}

impl LateRender for RunTimeRender<'_> {
    fn render(&self, node: &Node) -> Result<(String, Option<String>), String> {
        let db = self.database()?;
        let (nodes, deferred) = self.deferred.unzip();
        let (mut sql, mut incremental) = self
            .project
            .render_late(&node.unique_id, Some(db), nodes)
            .map_err(|d| d.to_string())?;
        // The ephemeral parents' CTEs were compiled against this environment's relations.
        for code in std::iter::once(&mut sql).chain(&mut incremental) {
            defer::repoint(code, deferred.unwrap_or_default());
        }
        Ok((sql, incremental))
    }

    fn render_hook(&self, node: &Node, hook: &Hook) -> Result<(Vec<Relation>, String), String> {
        let (nodes, deferred) = self.deferred.unzip();
        let mut rendered = self
            .project
            .render_late_hook(&node.unique_id, hook, Some(self.database()?), nodes)
            .map_err(|d| d.to_string())?;
        defer::repoint(&mut rendered.sql, deferred.unwrap_or_default());
        Ok((rendered.drops, rendered.sql))
    }
}

/// The database as a late render sees it.
struct ConnDb(Mutex<Box<dyn Connection>>);

impl std::fmt::Debug for ConnDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConnDb")
    }
}

impl ConnDb {
    fn with<T>(&self, f: impl FnOnce(&dyn Connection) -> modelc_exec::DbResult<T>) -> Result<T, String> {
        let conn = self.0.lock().map_err(|_| "the connection is poisoned".to_string())?;
        f(conn.as_ref()).map_err(|e| e.to_string())
    }
}

impl External for ConnDb {
    fn columns(&self, relation: &Relation) -> Result<Option<Vec<DbColumn>>, String> {
        self.with(|c| {
            if modelc_exec::existing(c, relation)?.is_none() {
                return Ok(None);
            }
            Ok(Some(
                modelc_exec::columns(c, relation)?
                    .into_iter()
                    .map(|(name, data_type)| DbColumn {
                        name,
                        data_type: Some(data_type),
                    })
                    .collect(),
            ))
        })
    }

    fn relation(&self, relation: &Relation) -> Result<Option<Relation>, String> {
        self.with(|c| Ok(modelc_exec::existing(c, relation)?.map(|_| relation.clone())))
    }

    fn drop_relation(&self, relation: &Relation) -> Result<(), String> {
        self.with(|c| modelc_exec::drop_if_exists(c, relation))
    }

    fn query(&self, sql: &str) -> Result<QueryTable, String> {
        let r = self.with(|c| modelc_exec::query_table(c, sql))?;
        Ok(QueryTable {
            columns: r.columns,
            rows: r.rows,
        })
    }
}
