//! [`Scheduler`]: hands out the nodes of a subset of a [`Dag`] to a parallel
//! runner as their dependencies complete, and skips the descendants of
//! failed nodes.
//!
//! Like dbt's `get_subset_graph`, dependencies through nodes outside the
//! subset are kept: if `a -> x -> b` and only `a` and `b` are selected, `b`
//! waits for `a` (and is skipped when `a` fails). Nodes outside the subset
//! are never run; they count as done as soon as their own dependencies are.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap};

use petgraph::Direction;

use crate::Dag;

/// Marker for "not a scheduled node" in the global-to-local index map.
const NONE: u32 = u32::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Waiting for dependencies.
    Waiting,
    /// Ready, in the heap.
    Ready,
    /// Handed out by `pop_ready`.
    Running,
    /// Completed successfully (or, outside the subset, satisfied).
    Done,
    /// Completed with a failure.
    Failed,
    /// Will never run: an ancestor failed.
    Skipped,
}

/// Dependency-driven work queue over a subset of a [`Dag`].
///
/// Call [`Scheduler::pop_ready`] until it returns `None`, run those nodes,
/// report each with [`Scheduler::complete`], and repeat until
/// [`Scheduler::is_finished`].
#[derive(Debug, Clone)]
pub struct Scheduler {
    /// Local node ids, in topological order (the local index is the node's
    /// topological position).
    ids: Vec<String>,
    /// Local index of each subset node.
    index: HashMap<String, u32>,
    in_subset: Vec<bool>,
    children: Vec<Vec<u32>>,
    /// Number of unfinished parents.
    pending: Vec<u32>,
    state: Vec<State>,
    ready: BinaryHeap<Reverse<u32>>,
    running: usize,
    /// Subset nodes neither done, failed nor skipped.
    unresolved: usize,
}

impl Scheduler {
    /// A scheduler for the nodes of `subset` (unknown ids are ignored).
    pub fn new(dag: &Dag, subset: &BTreeSet<String>) -> Scheduler {
        let in_set = dag.set_of(subset);
        // Outside nodes matter only when they lie between two subset nodes.
        let mut between = dag.reach(&in_set, Direction::Outgoing, None);
        between.intersect_with(&dag.reach(&in_set, Direction::Incoming, None));
        between.union_with(&in_set);

        let mut local = vec![NONE; dag.len()];
        let mut ids = Vec::new();
        let mut in_subset = Vec::new();
        let mut globals = Vec::new();
        for &ix in &dag.topo {
            if between.contains(ix) {
                local[ix.index()] = ids.len() as u32;
                ids.push(dag.graph[ix].unique_id.clone());
                in_subset.push(in_set.contains(ix));
                globals.push(ix);
            }
        }
        let n = ids.len();
        let mut children = vec![Vec::new(); n];
        let mut pending = vec![0u32; n];
        for (l, &ix) in globals.iter().enumerate() {
            for child in dag.graph.neighbors_directed(ix, Direction::Outgoing) {
                let c = local[child.index()];
                if c != NONE {
                    children[l].push(c);
                    pending[c as usize] += 1;
                }
            }
        }
        let index = ids
            .iter()
            .enumerate()
            .filter(|&(l, _)| in_subset[l])
            .map(|(l, id)| (id.clone(), l as u32))
            .collect();
        let mut scheduler = Scheduler {
            ids,
            index,
            unresolved: in_subset.iter().filter(|&&s| s).count(),
            in_subset,
            children,
            pending,
            state: vec![State::Waiting; n],
            ready: BinaryHeap::new(),
            running: 0,
        };
        let roots: Vec<u32> = (0..n as u32).filter(|&l| scheduler.pending[l as usize] == 0).collect();
        scheduler.release(roots);
        scheduler
    }

    /// Makes the given nodes (whose dependencies are all done) ready; outside
    /// nodes complete at once, releasing their children in turn.
    fn release(&mut self, mut free: Vec<u32>) {
        while let Some(l) = free.pop() {
            let i = l as usize;
            if self.in_subset[i] {
                self.state[i] = State::Ready;
                self.ready.push(Reverse(l));
            } else {
                self.state[i] = State::Done;
                self.finish_parent(l, &mut free);
            }
        }
    }

    fn finish_parent(&mut self, l: u32, free: &mut Vec<u32>) {
        for &c in &self.children[l as usize] {
            let p = &mut self.pending[c as usize];
            *p = p.saturating_sub(1);
            if *p == 0 {
                free.push(c);
            }
        }
    }

    /// The next ready node (all its dependencies done successfully), in
    /// topological order; `None` when nothing is ready right now.
    pub fn pop_ready(&mut self) -> Option<String> {
        let Reverse(l) = self.ready.pop()?;
        self.state[l as usize] = State::Running;
        self.running += 1;
        Some(self.ids[l as usize].clone())
    }

    /// Reports a node handed out by [`Scheduler::pop_ready`] as finished.
    ///
    /// On failure every not yet skipped descendant inside the subset is
    /// skipped; returns those as `(skipped_id, failed_id)` in topological
    /// order. Reports for ids that are not running are ignored.
    pub fn complete(&mut self, id: &str, ok: bool) -> Vec<(String, String)> {
        let Some(&l) = self.index.get(id) else {
            return Vec::new();
        };
        if self.state[l as usize] != State::Running {
            return Vec::new();
        }
        self.running -= 1;
        self.unresolved -= 1;
        if ok {
            self.state[l as usize] = State::Done;
            let mut free = Vec::new();
            self.finish_parent(l, &mut free);
            self.release(free);
            return Vec::new();
        }
        self.state[l as usize] = State::Failed;
        let mut skipped = Vec::new();
        let mut stack = vec![l];
        while let Some(p) = stack.pop() {
            for &c in &self.children[p as usize] {
                let i = c as usize;
                // Already skipped nodes have had their descendants skipped too.
                if self.state[i] == State::Waiting {
                    self.state[i] = State::Skipped;
                    if self.in_subset[i] {
                        self.unresolved -= 1;
                        skipped.push(c);
                    }
                    stack.push(c);
                }
            }
        }
        skipped.sort_unstable();
        skipped
            .into_iter()
            .map(|c| (self.ids[c as usize].clone(), id.to_string()))
            .collect()
    }

    /// Whether every node has completed or been skipped: nothing running,
    /// ready or waiting.
    pub fn is_finished(&self) -> bool {
        self.unresolved == 0
    }

    /// Number of nodes handed out and not yet completed.
    pub fn running(&self) -> usize {
        self.running
    }

    /// Number of subset nodes not yet completed or skipped (including the
    /// running and ready ones).
    pub fn remaining(&self) -> usize {
        self.unresolved
    }
}

#[cfg(test)]
mod tests;
