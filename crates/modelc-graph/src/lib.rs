//! The dependency graph (DAG) of a dbt-style project: seeds, models, snapshots,
//! tests, analyses and sources, built on [`petgraph`].
//!
//! * [`Dag::new`] builds the graph and rejects cycles, reporting one concrete
//!   cycle ([`DagError::Cycle`]).
//! * [`Dag::select`] implements dbt's node selection syntax (`+model`, `tag:x`,
//!   `path:models/staging`, intersections, excludes, indirect test selection).
//! * [`Dag::topo_order`] and [`Dag::waves`] order a subset of nodes, and
//!   [`Scheduler`] hands out ready nodes to a parallel runner.
//!
//! Every operation is linear (or `n log n`) in the size of the graph, so a
//! 20,000 node project is selected and ordered in milliseconds.

mod schedule;
mod select;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet, VecDeque};
use std::fmt;
use std::str::FromStr;

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::Direction;

pub use schedule::Scheduler;
pub use select::{IndirectSelection, Selection, SelectorError};

/// The kind of a graph node, as dbt's `resource_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceKind {
    /// A SQL model (`models/**/*.sql`).
    Model,
    /// A CSV seed (`seeds/*.csv`).
    Seed,
    /// A snapshot (`snapshots/*.sql`).
    Snapshot,
    /// A data test, generic or singular.
    Test,
    /// A source table declared in YAML; never executed.
    Source,
    /// An analysis (compiled, never executed).
    Analysis,
    /// An exposure (a dashboard or application using models); never executed.
    Exposure,
    /// A unit test: a model's SQL run on fixed rows. A child of its model, as in
    /// dbt, so selecting the model selects it; it runs before the model.
    UnitTest,
}

impl ResourceKind {
    /// Every kind, in declaration order.
    pub const ALL: [ResourceKind; 8] = [
        ResourceKind::Model,
        ResourceKind::Seed,
        ResourceKind::Snapshot,
        ResourceKind::Test,
        ResourceKind::Source,
        ResourceKind::Analysis,
        ResourceKind::Exposure,
        ResourceKind::UnitTest,
    ];

    /// dbt's name of the kind: `"model"`, `"seed"`, `"snapshot"`, `"test"`,
    /// `"source"`, `"analysis"`, `"exposure"` or `"unit_test"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Model => "model",
            ResourceKind::Seed => "seed",
            ResourceKind::Snapshot => "snapshot",
            ResourceKind::Test => "test",
            ResourceKind::Source => "source",
            ResourceKind::Analysis => "analysis",
            ResourceKind::Exposure => "exposure",
            ResourceKind::UnitTest => "unit_test",
        }
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ResourceKind {
    type Err = ParseKindError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ResourceKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| ParseKindError {
                kind: "resource type",
                value: s.to_string(),
            })
    }
}

/// Error of the `FromStr` implementations of this crate's enums.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseKindError {
    /// What was being parsed, e.g. `"resource type"`.
    pub kind: &'static str,
    /// The rejected text.
    pub value: String,
}

impl fmt::Display for ParseKindError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {} '{}'", self.kind, self.value)
    }
}

impl std::error::Error for ParseKindError {}

/// The kind of a test node.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TestKind {
    /// A generic (schema) test declared in YAML, e.g. `not_null`.
    Generic {
        /// The generic test's name: `not_null`, `unique`, `relationships`, ...
        name: String,
    },
    /// A singular test: a `.sql` file under `tests/`.
    Singular,
}

/// What the graph needs to know of a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DagNode {
    /// dbt unique id, e.g. `model.lending.stg_applicants`,
    /// `source.lending.raw.applicants`, `test.lending.not_null_x_id.abc123`.
    pub unique_id: String,
    /// Short name: `stg_applicants`; for sources the table name; for tests
    /// the test name.
    pub name: String,
    /// The node's kind.
    pub resource_type: ResourceKind,
    /// The package (project name) the node belongs to.
    pub package: String,
    /// Original file path relative to the project root, `/`-separated, e.g.
    /// `models/staging/stg_applicants.sql`.
    pub path: String,
    /// dbt fully qualified name, e.g. `["lending", "staging", "stg_applicants"]`;
    /// for sources `[package, source_name, table]`.
    pub fqn: Vec<String>,
    /// Tags, for `tag:` selection.
    pub tags: Vec<String>,
    /// Materialization: `view`, `table`, `incremental`, `ephemeral`, `seed`,
    /// `snapshot` or `test`.
    pub materialized: Option<String>,
    /// For sources: the source's name (`raw` in `source('raw', 'applicants')`).
    pub source_name: Option<String>,
    /// For tests: generic or singular.
    pub test_kind: Option<TestKind>,
    /// Flattened scalar config values, for `config.X:value` selection.
    pub config: BTreeMap<String, String>,
    /// How the node compares with a previous state (`--state`), for `state:`
    /// selection: `new`, or `modified` with its kinds (`modified.body`,
    /// `modified.configs`, ...); empty when unchanged or without a state.
    pub state: BTreeSet<String>,
    /// Its status in the previous run's `run_results.json` (`--state`), for
    /// `result:` selection (`error`, `fail`, `success`, `skipped`, ...).
    pub result: Option<String>,
    /// A source's freshness against the previous `sources.json` (`--state`), for
    /// `source_status:` selection: `fresher` when loaded since.
    pub source_status: Option<String>,
}

impl DagNode {
    /// A node with the given id, name and kind and every other field empty.
    pub fn new(unique_id: impl Into<String>, name: impl Into<String>, resource_type: ResourceKind) -> DagNode {
        DagNode {
            unique_id: unique_id.into(),
            name: name.into(),
            resource_type,
            package: String::new(),
            path: String::new(),
            fqn: Vec::new(),
            tags: Vec::new(),
            materialized: None,
            source_name: None,
            test_kind: None,
            config: BTreeMap::new(),
            state: BTreeSet::new(),
            result: None,
            source_status: None,
        }
    }
}

/// Why a [`Dag`] could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DagError {
    /// An edge endpoint is not among the nodes.
    UnknownNode {
        /// The missing unique id.
        id: String,
    },
    /// Two nodes share a unique id.
    DuplicateNode {
        /// The repeated unique id.
        id: String,
    },
    /// A dependency cycle: unique ids in edge order, the first id not repeated
    /// at the end; `[a, b, c]` means `a -> b -> c -> a` (b depends on a, ...).
    Cycle {
        /// The nodes of the cycle.
        path: Vec<String>,
    },
}

impl fmt::Display for DagError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DagError::UnknownNode { id } => write!(f, "dependency on unknown node '{id}'"),
            DagError::DuplicateNode { id } => write!(f, "duplicate node '{id}'"),
            DagError::Cycle { path } => {
                f.write_str("dependency cycle: ")?;
                for id in path {
                    write!(f, "{id} -> ")?;
                }
                match path.first() {
                    Some(first) => f.write_str(first),
                    None => Ok(()),
                }
            }
        }
    }
}

impl std::error::Error for DagError {}

/// The acyclic dependency graph of a project.
///
/// Edges point from parent to child: the child depends on the parent.
#[derive(Debug, Clone)]
pub struct Dag {
    graph: DiGraph<DagNode, ()>,
    index: HashMap<String, NodeIndex>,
    /// All nodes in deterministic topological order (ties by unique id).
    topo: Vec<NodeIndex>,
    /// Rank of each node (by index) in unique id order, for cheap tie-breaks.
    rank: Vec<u32>,
    /// Nodes sorted by unique id (the inverse of `rank`).
    by_id: Vec<NodeIndex>,
}

impl Dag {
    /// Builds the graph. `edges` are `(parent_id, child_id)`: the child depends
    /// on the parent. Duplicate edges are ignored.
    pub fn new(nodes: Vec<DagNode>, edges: Vec<(String, String)>) -> Result<Dag, DagError> {
        let mut graph = DiGraph::with_capacity(nodes.len(), edges.len());
        let mut index = HashMap::with_capacity(nodes.len());
        for node in nodes {
            if index.contains_key(&node.unique_id) {
                return Err(DagError::DuplicateNode { id: node.unique_id });
            }
            let id = node.unique_id.clone();
            let ix = graph.add_node(node);
            index.insert(id, ix);
        }
        let mut seen = HashSet::with_capacity(edges.len());
        for (parent, child) in edges {
            let p = *index.get(&parent).ok_or(DagError::UnknownNode { id: parent })?;
            let c = *index.get(&child).ok_or(DagError::UnknownNode { id: child })?;
            if seen.insert((p, c)) {
                graph.add_edge(p, c, ());
            }
        }
        let mut by_id: Vec<NodeIndex> = graph.node_indices().collect();
        by_id.sort_unstable_by(|a, b| graph[*a].unique_id.cmp(&graph[*b].unique_id));
        let mut rank = vec![0u32; by_id.len()];
        for (r, ix) in by_id.iter().enumerate() {
            rank[ix.index()] = r as u32;
        }
        let topo = kahn(&graph, &rank);
        if topo.len() < graph.node_count() {
            return Err(DagError::Cycle {
                path: find_cycle(&graph),
            });
        }
        Ok(Dag {
            graph,
            index,
            topo,
            rank,
            by_id,
        })
    }

    /// The node with this unique id, to set what selection reads of it (`state`,
    /// `result`); the graph's shape does not change.
    pub fn node_mut(&mut self, id: &str) -> Option<&mut DagNode> {
        let i = *self.index.get(id)?;
        self.graph.node_weight_mut(i)
    }

    /// The node with this unique id.
    pub fn node(&self, id: &str) -> Option<&DagNode> {
        self.index.get(id).map(|&ix| &self.graph[ix])
    }

    /// Whether a node with this unique id exists.
    pub fn contains(&self, id: &str) -> bool {
        self.index.contains_key(id)
    }

    /// All nodes, in the order they were given to [`Dag::new`].
    pub fn nodes(&self) -> impl Iterator<Item = &DagNode> {
        self.graph.node_weights()
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.graph.node_count()
    }

    /// Whether the graph has no nodes.
    pub fn is_empty(&self) -> bool {
        self.graph.node_count() == 0
    }

    /// All edges as `(parent_id, child_id)`, e.g. to rebuild a graph with
    /// extra edges.
    pub fn edges(&self) -> impl Iterator<Item = (&str, &str)> {
        self.graph.raw_edges().iter().map(|edge| {
            (
                self.graph[edge.source()].unique_id.as_str(),
                self.graph[edge.target()].unique_id.as_str(),
            )
        })
    }

    /// The underlying petgraph graph (edges parent -> child).
    pub fn graph(&self) -> &DiGraph<DagNode, ()> {
        &self.graph
    }

    /// Direct parents of `id`, sorted. Empty for an unknown id.
    pub fn parents(&self, id: &str) -> Vec<&str> {
        self.neighbors_sorted(id, Direction::Incoming)
    }

    /// Direct children of `id`, sorted. Empty for an unknown id.
    pub fn children(&self, id: &str) -> Vec<&str> {
        self.neighbors_sorted(id, Direction::Outgoing)
    }

    fn neighbors_sorted(&self, id: &str, dir: Direction) -> Vec<&str> {
        let Some(&ix) = self.index.get(id) else {
            return Vec::new();
        };
        let mut out: Vec<&str> = self
            .graph
            .neighbors_directed(ix, dir)
            .map(|n| self.graph[n].unique_id.as_str())
            .collect();
        out.sort_unstable();
        out
    }

    /// Ancestors of `id` up to `depth` generations (all when `None`),
    /// excluding `id` itself.
    pub fn ancestors(&self, id: &str, depth: Option<usize>) -> BTreeSet<String> {
        self.relatives(id, Direction::Incoming, depth)
    }

    /// Descendants of `id` up to `depth` generations (all when `None`),
    /// excluding `id` itself.
    pub fn descendants(&self, id: &str, depth: Option<usize>) -> BTreeSet<String> {
        self.relatives(id, Direction::Outgoing, depth)
    }

    fn relatives(&self, id: &str, dir: Direction, depth: Option<usize>) -> BTreeSet<String> {
        let Some(&ix) = self.index.get(id) else {
            return BTreeSet::new();
        };
        let mut start = NodeSet::new(self.len());
        start.insert(ix);
        self.to_ids(&self.reach(&start, dir, depth))
    }

    /// Deterministic topological order of the unique ids in `subset` (unknown
    /// ids are ignored). Dependencies through nodes outside the subset are
    /// respected; among nodes whose dependencies are satisfied the smallest
    /// unique id comes first.
    pub fn topo_order(&self, subset: &BTreeSet<String>) -> Vec<String> {
        let in_subset = self.set_of(subset);
        let mut indegree: Vec<usize> = self
            .graph
            .node_indices()
            .map(|ix| self.graph.neighbors_directed(ix, Direction::Incoming).count())
            .collect();
        // Nodes outside the subset are released as soon as they are free, so a
        // subset node is emitted as soon as its subset ancestors are.
        let mut free: Vec<NodeIndex> = Vec::new();
        let mut heap: BinaryHeap<Reverse<(u32, NodeIndex)>> = BinaryHeap::new();
        let push = |ix: NodeIndex, free: &mut Vec<NodeIndex>, heap: &mut BinaryHeap<_>| {
            if in_subset.contains(ix) {
                heap.push(Reverse((self.rank[ix.index()], ix)));
            } else {
                free.push(ix);
            }
        };
        for ix in self.graph.node_indices() {
            if indegree[ix.index()] == 0 {
                push(ix, &mut free, &mut heap);
            }
        }
        let mut out = Vec::with_capacity(in_subset.count());
        loop {
            let ix = if let Some(ix) = free.pop() {
                ix
            } else if let Some(Reverse((_, ix))) = heap.pop() {
                out.push(self.graph[ix].unique_id.clone());
                ix
            } else {
                break;
            };
            for child in self.graph.neighbors_directed(ix, Direction::Outgoing) {
                let d = &mut indegree[child.index()];
                *d -= 1;
                if *d == 0 {
                    push(child, &mut free, &mut heap);
                }
            }
        }
        out
    }

    /// Topological levels ("waves") of `subset`: every node of a wave depends
    /// (directly, or through nodes outside the subset) only on nodes of
    /// earlier waves. A node sits in the wave after its latest dependency's.
    /// Each wave is sorted by unique id.
    pub fn waves(&self, subset: &BTreeSet<String>) -> Vec<Vec<String>> {
        let in_subset = self.set_of(subset);
        // level[n] = number of subset nodes on the longest path ending before n.
        let mut level = vec![0usize; self.len()];
        let mut waves: Vec<Vec<NodeIndex>> = Vec::new();
        for &ix in &self.topo {
            let mut next = level[ix.index()];
            if in_subset.contains(ix) {
                if waves.len() <= next {
                    waves.resize_with(next + 1, Vec::new);
                }
                waves[next].push(ix);
                next += 1;
            }
            for child in self.graph.neighbors_directed(ix, Direction::Outgoing) {
                let l = &mut level[child.index()];
                *l = (*l).max(next);
            }
        }
        waves
            .into_iter()
            .filter(|wave| !wave.is_empty())
            .map(|mut wave| {
                wave.sort_unstable_by_key(|ix| self.rank[ix.index()]);
                wave.into_iter().map(|ix| self.graph[ix].unique_id.clone()).collect()
            })
            .collect()
    }

    /// The nodes in `ids` as a bit set (unknown ids ignored).
    pub(crate) fn set_of<'a>(&self, ids: impl IntoIterator<Item = &'a String>) -> NodeSet {
        let mut set = NodeSet::new(self.len());
        for id in ids {
            if let Some(&ix) = self.index.get(id) {
                set.insert(ix);
            }
        }
        set
    }

    /// The unique ids of a bit set.
    pub(crate) fn to_ids(&self, set: &NodeSet) -> BTreeSet<String> {
        if set.count() * 8 < self.len() {
            set.iter().map(|ix| self.graph[ix].unique_id.clone()).collect()
        } else {
            // Already sorted: collecting into a BTreeSet is then linear.
            self.by_id
                .iter()
                .filter(|&&ix| set.contains(ix))
                .map(|&ix| self.graph[ix].unique_id.clone())
                .collect()
        }
    }

    /// Nodes reachable from `start` in direction `dir` within `depth` steps
    /// (unbounded when `None`). Start nodes are included only when reached
    /// from another start node.
    pub(crate) fn reach(&self, start: &NodeSet, dir: Direction, depth: Option<usize>) -> NodeSet {
        let mut reached = NodeSet::new(self.len());
        let mut visited = start.clone();
        let mut queue: VecDeque<(NodeIndex, usize)> = start.iter().map(|ix| (ix, 0)).collect();
        while let Some((ix, d)) = queue.pop_front() {
            if depth.is_some_and(|max| d >= max) {
                continue;
            }
            for next in self.graph.neighbors_directed(ix, dir) {
                reached.insert(next);
                if !visited.contains(next) {
                    visited.insert(next);
                    queue.push_back((next, d + 1));
                }
            }
        }
        reached
    }
}

/// Kahn's algorithm; ties broken by smallest unique id. Returns fewer nodes
/// than the graph has when there is a cycle.
fn kahn(graph: &DiGraph<DagNode, ()>, rank: &[u32]) -> Vec<NodeIndex> {
    let mut indegree: Vec<usize> = graph
        .node_indices()
        .map(|ix| graph.neighbors_directed(ix, Direction::Incoming).count())
        .collect();
    let mut heap: BinaryHeap<Reverse<(u32, NodeIndex)>> = graph
        .node_indices()
        .filter(|ix| indegree[ix.index()] == 0)
        .map(|ix| Reverse((rank[ix.index()], ix)))
        .collect();
    let mut out = Vec::with_capacity(graph.node_count());
    while let Some(Reverse((_, ix))) = heap.pop() {
        out.push(ix);
        for child in graph.neighbors_directed(ix, Direction::Outgoing) {
            let d = &mut indegree[child.index()];
            *d -= 1;
            if *d == 0 {
                heap.push(Reverse((rank[child.index()], child)));
            }
        }
    }
    out
}

/// One shortest cycle through the smallest unique id that lies on a cycle.
fn find_cycle(graph: &DiGraph<DagNode, ()>) -> Vec<String> {
    let id = |ix: NodeIndex| graph[ix].unique_id.as_str();
    // Strongly connected components (iterative Kosaraju: no recursion on deep
    // graphs). A component is cyclic when it has several nodes or a self-loop.
    let mut component = vec![usize::MAX; graph.node_count()];
    let mut start: Option<NodeIndex> = None;
    for (c, scc) in petgraph::algo::kosaraju_scc(graph).into_iter().enumerate() {
        let cyclic = scc.len() > 1 || scc.iter().any(|&ix| graph.contains_edge(ix, ix));
        if !cyclic {
            continue;
        }
        for ix in scc {
            component[ix.index()] = c;
            if start.is_none_or(|s| id(ix) < id(s)) {
                start = Some(ix);
            }
        }
    }
    let Some(start) = start else {
        return Vec::new();
    };
    // Breadth-first search inside the component from `start`: the first node
    // found with an edge back to `start` closes a shortest cycle through it.
    let comp = component[start.index()];
    let mut pred: HashMap<NodeIndex, NodeIndex> = HashMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(ix) = queue.pop_front() {
        let mut next: Vec<NodeIndex> = graph
            .neighbors_directed(ix, Direction::Outgoing)
            .filter(|n| component[n.index()] == comp)
            .collect();
        next.sort_unstable_by_key(|&n| id(n));
        next.dedup();
        if next.contains(&start) {
            let mut path = vec![id(ix).to_string()];
            let mut cur = ix;
            while cur != start {
                let Some(&p) = pred.get(&cur) else { break };
                path.push(id(p).to_string());
                cur = p;
            }
            path.reverse();
            return path;
        }
        for n in next {
            if n != start && !pred.contains_key(&n) {
                pred.insert(n, ix);
                queue.push_back(n);
            }
        }
    }
    vec![id(start).to_string()]
}

/// A set of node indices of one graph, as a bit set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NodeSet {
    bits: Vec<u64>,
}

impl NodeSet {
    pub(crate) fn new(len: usize) -> NodeSet {
        NodeSet {
            bits: vec![0; len.div_ceil(64)],
        }
    }

    pub(crate) fn insert(&mut self, ix: NodeIndex) {
        let i = ix.index();
        if let Some(word) = self.bits.get_mut(i / 64) {
            *word |= 1 << (i % 64);
        }
    }

    pub(crate) fn contains(&self, ix: NodeIndex) -> bool {
        let i = ix.index();
        self.bits.get(i / 64).is_some_and(|word| word & (1 << (i % 64)) != 0)
    }

    pub(crate) fn union_with(&mut self, other: &NodeSet) {
        for (a, b) in self.bits.iter_mut().zip(&other.bits) {
            *a |= b;
        }
    }

    pub(crate) fn intersect_with(&mut self, other: &NodeSet) {
        for (a, b) in self.bits.iter_mut().zip(&other.bits) {
            *a &= b;
        }
    }

    pub(crate) fn difference_with(&mut self, other: &NodeSet) {
        for (a, b) in self.bits.iter_mut().zip(&other.bits) {
            *a &= !b;
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.bits.iter().all(|&w| w == 0)
    }

    pub(crate) fn count(&self) -> usize {
        self.bits.iter().map(|w| w.count_ones() as usize).sum()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = NodeIndex> + '_ {
        self.bits.iter().enumerate().flat_map(|(w, &word)| {
            let mut word = word;
            std::iter::from_fn(move || {
                if word == 0 {
                    return None;
                }
                let bit = word.trailing_zeros() as usize;
                word &= word - 1;
                Some(NodeIndex::new(w * 64 + bit))
            })
        })
    }
}

#[cfg(test)]
mod fixture;
#[cfg(test)]
mod tests;
