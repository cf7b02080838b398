//! Layered layout of the lineage DAG, left to right.
//!
//! Layers are the longest path from a root; tests get columns of their own, one
//! right of the deepest node they test. The order within each layer comes from barycenter
//! sweeps (each node moves to the mean position of its parents, then of its
//! children), which removes most edge crossings. Every sweep is linear in the
//! edges plus a sort per layer.

/// Height of a node box.
pub(crate) const NODE_H: f64 = 26.0;
/// Vertical distance between the tops of two boxes in a layer.
const PITCH: f64 = 36.0;
/// Horizontal gap between layers.
const GAP: f64 = 90.0;
/// Side layers up to this many nodes never wrap.
const WRAP_ROWS: usize = 40;
/// Horizontal gap between the sub-columns of a wrapped layer.
const SUB_GAP: f64 = 12.0;
/// Margin around the drawing.
const MARGIN: f64 = 20.0;
/// Down and up sweeps.
const SWEEPS: usize = 4;

/// Positions of laid-out nodes: top-left corners.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Layout {
    /// Layer of each node.
    pub layer: Vec<usize>,
    /// Left edge of each node.
    pub x: Vec<f64>,
    /// Top edge of each node.
    pub y: Vec<f64>,
    /// Extent of the drawing.
    pub width: f64,
    /// Extent of the drawing.
    pub height: f64,
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

/// Lays out `widths.len()` nodes joined by `edges` (parent index, child index).
/// `side` nodes (tests) get columns of their own, right after the column of the
/// deepest node they read, so they do not push the models apart.
/// Nodes are ordered by index where nothing else decides, so the result is
/// deterministic. Cycles do not fail: a node on one is released in index order.
pub(crate) fn layout(widths: &[f64], edges: &[(usize, usize)], side: &[bool]) -> Layout {
    let n = widths.len();
    let is_side = |v: usize| side.get(v).copied().unwrap_or(false);
    let mut parents: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(p, c) in edges {
        if p < n && c < n && p != c {
            parents[c].push(p);
            children[p].push(c);
        }
    }
    for list in parents.iter_mut().chain(children.iter_mut()) {
        list.sort_unstable();
        list.dedup();
    }

    // Longest path from the roots (Kahn's order), in doubled ranks: main nodes
    // on even ranks, side nodes on odd ones.
    let parity = |v: usize, r: usize| if (r % 2 == 1) == is_side(v) { r } else { r + 1 };
    let mut indegree: Vec<usize> = parents.iter().map(Vec::len).collect();
    let mut rank: Vec<usize> = (0..n).map(|v| parity(v, 0)).collect();
    let mut queued = vec![false; n];
    let mut queue: std::collections::VecDeque<usize> = (0..n).filter(|&v| indegree[v] == 0).collect();
    for &v in &queue {
        queued[v] = true;
    }
    let mut placed = 0;
    let mut cursor = 0;
    loop {
        while let Some(v) = queue.pop_front() {
            placed += 1;
            for &c in &children[v] {
                if queued[c] {
                    continue; // a back edge of a cycle
                }
                rank[c] = rank[c].max(parity(c, rank[v] + 1));
                indegree[c] = indegree[c].saturating_sub(1);
                if indegree[c] == 0 {
                    queued[c] = true;
                    queue.push_back(c);
                }
            }
        }
        if placed == n {
            break;
        }
        while cursor < n && queued[cursor] {
            cursor += 1;
        }
        if cursor == n {
            break;
        }
        queued[cursor] = true;
        queue.push_back(cursor);
    }
    // Ranks to consecutive layers (empty ranks dropped).
    let used: std::collections::BTreeSet<usize> = rank.iter().copied().collect();
    let column: std::collections::HashMap<usize, usize> = used.iter().enumerate().map(|(i, r)| (*r, i)).collect();
    let layer: Vec<usize> = rank.iter().map(|r| column.get(r).copied().unwrap_or(0)).collect();

    let layers_n = layer.iter().max().map_or(0, |m| m + 1);
    let mut layers: Vec<Vec<usize>> = vec![Vec::new(); layers_n];
    for v in 0..n {
        layers[layer[v]].push(v);
    }
    // Side layers taller than the tallest main layer (and than `WRAP_ROWS`) wrap
    // into sub-columns, filled row by row, so tests do not stretch the drawing.
    let rows = layers
        .iter()
        .filter(|l| l.first().is_some_and(|&v| !is_side(v)))
        .map(Vec::len)
        .max()
        .unwrap_or(0)
        .max(WRAP_ROWS);
    let wrap: Vec<usize> = layers
        .iter()
        .map(|l| match l.first() {
            Some(&v) if is_side(v) => l.len().div_ceil(rows).max(1),
            _ => 1,
        })
        .collect();
    let mut pos = vec![0.0f64; n];
    let compact = |l: &[usize], k: usize, pos: &mut Vec<f64>| {
        let mid = (l.len().div_ceil(k) as f64 - 1.0) / 2.0;
        for (i, &v) in l.iter().enumerate() {
            pos[v] = ((i / k) as f64 - mid) * PITCH;
        }
    };
    for (l, &k) in layers.iter().zip(&wrap) {
        compact(l, k, &mut pos);
    }
    let reorder = |l: &mut Vec<usize>, k: usize, pos: &mut Vec<f64>, adj: &[Vec<usize>]| {
        let mut keyed: Vec<(f64, usize)> = l
            .iter()
            .map(|&v| (mean(adj[v].iter().map(|&u| pos[u])).unwrap_or(pos[v]), v))
            .collect();
        keyed.sort_by(|a, b| a.0.total_cmp(&b.0)); // stable: ties keep the current order
        *l = keyed.into_iter().map(|(_, v)| v).collect();
        compact(l, k, pos);
    };
    for _ in 0..SWEEPS {
        for (l, &k) in layers.iter_mut().zip(&wrap).skip(1) {
            reorder(l, k, &mut pos, &parents);
        }
        for (l, &k) in layers.iter_mut().zip(&wrap).rev().skip(1) {
            reorder(l, k, &mut pos, &children);
        }
    }
    for (l, &k) in layers.iter_mut().zip(&wrap).skip(1) {
        reorder(l, k, &mut pos, &parents);
    }

    // Final placement: each row as close to its nodes' parents as the order and
    // spacing allow (a row is one node, or `k` nodes of a wrapped layer).
    let mut y = pos.clone();
    for (l, &k) in layers.iter().zip(&wrap) {
        let desired: Vec<f64> = l
            .chunks(k)
            .map(|row| {
                let d = row
                    .iter()
                    .map(|&v| mean(parents[v].iter().map(|&u| y[u])).unwrap_or(pos[v]));
                mean(d).unwrap_or(0.0)
            })
            .collect();
        let mut prev = f64::NEG_INFINITY;
        let mut placed_y = Vec::with_capacity(desired.len());
        for d in &desired {
            let v = d.max(prev + PITCH);
            placed_y.push(v);
            prev = v;
        }
        let shift = mean(desired.iter().zip(&placed_y).map(|(d, p)| d - p)).unwrap_or(0.0);
        for (row, p) in l.chunks(k).zip(&placed_y) {
            for &v in row {
                y[v] = p + shift;
            }
        }
    }

    // Columns: each layer as wide as its widest node, times its sub-columns.
    let mut x = vec![0.0; n];
    let mut left = MARGIN;
    for (l, &k) in layers.iter().zip(&wrap) {
        let w = l.iter().map(|&v| widths[v]).fold(0.0, f64::max);
        for (i, &v) in l.iter().enumerate() {
            x[v] = left + (i % k) as f64 * (w + SUB_GAP);
        }
        left += k as f64 * w + (k - 1) as f64 * SUB_GAP + GAP;
    }
    let top = y.iter().copied().fold(f64::INFINITY, f64::min);
    let top = if top.is_finite() { top } else { 0.0 };
    for v in y.iter_mut() {
        *v = (*v - top + MARGIN).round();
    }
    let height = y.iter().copied().fold(0.0, f64::max) + NODE_H + MARGIN;
    let width = (left - GAP + MARGIN).max(2.0 * MARGIN);
    Layout {
        layer,
        x,
        y,
        width,
        height: height.max(2.0 * MARGIN),
    }
}

/// Edge crossings between adjacent layers, for tests (quadratic).
#[cfg(test)]
pub(crate) fn crossings(l: &Layout, edges: &[(usize, usize)]) -> usize {
    let mut count = 0;
    for (i, &(a, b)) in edges.iter().enumerate() {
        for &(c, d) in &edges[i + 1..] {
            if l.layer[a] == l.layer[c] && l.layer[b] == l.layer[d] && l.layer[b] == l.layer[a] + 1 {
                let (ya, yb, yc, yd) = (l.y[a], l.y[b], l.y[c], l.y[d]);
                if (ya - yc) * (yb - yd) < 0.0 {
                    count += 1;
                }
            }
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(widths: &[f64], edges: &[(usize, usize)], side: &[bool]) -> Layout {
        let l = layout(widths, edges, side);
        for &(p, c) in edges {
            assert!(l.layer[p] < l.layer[c], "edge {p}->{c} goes left");
            assert!(l.x[p] + widths[p] < l.x[c], "edge {p}->{c}: boxes overlap horizontally");
        }
        // No two boxes overlap.
        let mut boxes: Vec<usize> = (0..widths.len()).collect();
        boxes.sort_by(|&a, &b| l.x[a].total_cmp(&l.x[b]).then(l.y[a].total_cmp(&l.y[b])));
        for (i, &a) in boxes.iter().enumerate() {
            for &b in &boxes[i + 1..] {
                if l.x[b] >= l.x[a] + widths[a] {
                    break;
                }
                let apart_x = l.x[a] + widths[a] <= l.x[b] || l.x[b] + widths[b] <= l.x[a];
                let apart_y = l.y[a] + NODE_H <= l.y[b] || l.y[b] + NODE_H <= l.y[a];
                assert!(apart_x || apart_y, "nodes {a} and {b} overlap");
            }
        }
        for (v, w) in widths.iter().enumerate() {
            assert!(l.x[v] >= 0.0 && l.y[v] >= 0.0);
            assert!(l.x[v] + w <= l.width && l.y[v] + NODE_H <= l.height);
        }
        l
    }

    #[test]
    fn layers_follow_edges_and_boxes_do_not_overlap() {
        // 0,1 roots; 2 <- 0,1; 3 <- 2; 4 <- 0 (a long edge); 5 a test of 3 and 0.
        let edges = [(0, 2), (1, 2), (2, 3), (0, 4), (3, 5), (0, 5)];
        let l = check(&[100.0, 120.0, 90.0, 200.0, 150.0, 80.0], &edges, &[]);
        assert_eq!(l.layer, vec![0, 0, 1, 2, 1, 3]);
    }

    #[test]
    fn side_nodes_get_their_own_columns() {
        // 0 -> 1 -> 2 models; 3 tests 0, 4 tests 1 and 0, 5 tests 2.
        let edges = [(0, 1), (1, 2), (0, 3), (1, 4), (0, 4), (2, 5)];
        let side = [false, false, false, true, true, true];
        let l = layout(&[100.0; 6], &edges, &side);
        assert_eq!(l.layer, vec![0, 2, 4, 1, 3, 5]);
        // Without tests on the first model, the models close up.
        let l = layout(
            &[100.0; 5],
            &[(0, 1), (1, 2), (1, 3), (2, 4)],
            &[false, false, false, true, true],
        );
        assert_eq!(l.layer, vec![0, 1, 3, 2, 4]);
    }

    #[test]
    fn tall_side_layers_wrap_into_sub_columns() {
        // Fifty root models; 120 tests of the first wrap into three sub-columns of
        // at most fifty rows: no taller than the models.
        let edges: Vec<(usize, usize)> = (50..170).map(|t| (0, t)).collect();
        let side: Vec<bool> = (0..170).map(|v| v >= 50).collect();
        let l = check(&[100.0; 170], &edges, &side);
        assert!((50..170).all(|t| l.layer[t] == 1));
        let xs: std::collections::BTreeSet<u64> = (50..170).map(|v| l.x[v] as u64).collect();
        let ys: std::collections::BTreeSet<u64> = (50..170).map(|v| l.y[v] as u64).collect();
        assert_eq!((xs.len(), ys.len()), (3, 40));
        // Thirty tests do not wrap.
        let l = layout(
            &[100.0; 31],
            &(1..31).map(|t| (0, t)).collect::<Vec<_>>(),
            &[false; 1].iter().chain(&[true; 30]).copied().collect::<Vec<_>>(),
        );
        assert!((1..31).all(|t| l.x[t] == l.x[1]));
    }

    #[test]
    fn barycenter_sweeps_untangle_a_crossed_pair() {
        // Roots 0,1; children 2 (of 1) and 3 (of 0): in index order the edges cross.
        let edges = [(0, 3), (1, 2)];
        let l = check(&[100.0; 4], &edges, &[]);
        assert_eq!(crossings(&l, &edges), 0);
    }

    #[test]
    fn cycles_and_isolated_nodes_are_placed() {
        let l = layout(&[50.0; 4], &[(0, 1), (1, 0), (2, 2)], &[]);
        assert_eq!(l.layer.len(), 4);
        assert!(l.y.iter().all(|y| y.is_finite()));
    }

    #[test]
    fn a_large_generated_dag_lays_out_quickly_without_overlaps() {
        // 1,000 models in 10 layers, each reading 1-3 earlier ones, plus 2 tests each.
        let mut edges = Vec::new();
        let mut widths = Vec::new();
        let mut seed: u64 = 42;
        let mut rand = move |m: usize| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((seed >> 33) as usize) % m.max(1)
        };
        for i in 0..1000 {
            widths.push(80.0 + (i % 7) as f64 * 20.0);
            if i >= 100 {
                for _ in 0..1 + rand(3) {
                    edges.push((rand(i - (i % 100)), i));
                }
            }
        }
        for i in 0..1000 {
            for _ in 0..2 {
                let t = widths.len();
                widths.push(120.0);
                edges.push((i, t));
            }
        }
        let side: Vec<bool> = (0..widths.len()).map(|v| v >= 1000).collect();
        let start = std::time::Instant::now();
        let l = check(&widths, &edges, &side);
        assert!(start.elapsed().as_secs() < 5);
        assert_eq!(l.layer.len(), 3000);
    }
}
