//! Prerequisite graphs over skills: built from named edges, with self-loops, duplicates and
//! cycles reported and broken deterministically, so that every planner gets a DAG.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

/// Why an edge of the input was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dropped {
    /// A node listed as its own prerequisite.
    SelfLoop,
    /// The same edge twice.
    Duplicate,
    /// The edge closed a cycle: it is the back edge a depth-first search from the nodes in
    /// input order meets, visiting dependents in input order.
    Cycle,
}

/// A dropped edge, by node names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DroppedEdge {
    /// The prerequisite.
    pub from: String,
    /// The dependent.
    pub to: String,
    /// Why it was dropped.
    pub why: Dropped,
}

/// A directed acyclic prerequisite graph.
#[derive(Clone, Debug, Default)]
pub struct PrereqGraph {
    names: Vec<String>,
    index: HashMap<String, usize>,
    prerequisites: Vec<Vec<usize>>,
    dependents: Vec<Vec<usize>>,
    dropped: Vec<DroppedEdge>,
}

impl PrereqGraph {
    /// Builds the graph; edge endpoints missing from `nodes` are added after them.
    pub fn new(nodes: &[String], edges: &[(String, String)]) -> Self {
        let mut g = Self::default();
        for n in nodes.iter().chain(edges.iter().flat_map(|(a, b)| [a, b])) {
            if !g.index.contains_key(n) {
                g.index.insert(n.clone(), g.names.len());
                g.names.push(n.clone());
            }
        }
        let n = g.names.len();
        let mut adjacency: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut seen = BTreeSet::new();
        for (a, b) in edges {
            let (i, j) = (g.index[a], g.index[b]);
            let why = if i == j {
                Some(Dropped::SelfLoop)
            } else if !seen.insert((i, j)) {
                Some(Dropped::Duplicate)
            } else {
                None
            };
            match why {
                Some(why) => g.dropped.push(DroppedEdge { from: a.clone(), to: b.clone(), why }),
                None => adjacency[i].push(j),
            }
        }
        // Depth-first search (iterative) to find and drop back edges.
        let (white, grey, black) = (0u8, 1u8, 2u8);
        let mut colour = vec![white; n];
        let mut kept: Vec<Vec<usize>> = vec![Vec::new(); n];
        for root in 0..n {
            if colour[root] != white {
                continue;
            }
            let mut stack = vec![(root, 0usize)];
            colour[root] = grey;
            while let Some(&mut (v, ref mut next)) = stack.last_mut() {
                if let Some(&w) = adjacency[v].get(*next) {
                    *next += 1;
                    if colour[w] == grey {
                        g.dropped.push(DroppedEdge {
                            from: g.names[v].clone(),
                            to: g.names[w].clone(),
                            why: Dropped::Cycle,
                        });
                    } else {
                        kept[v].push(w);
                        if colour[w] == white {
                            colour[w] = grey;
                            stack.push((w, 0));
                        }
                    }
                } else {
                    colour[v] = black;
                    stack.pop();
                }
            }
        }
        g.prerequisites = vec![Vec::new(); n];
        for (i, out) in kept.iter().enumerate() {
            for &j in out {
                g.prerequisites[j].push(i);
            }
        }
        g.dependents = kept;
        g
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the graph has no node.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// A node's name.
    pub fn name(&self, node: usize) -> &str {
        &self.names[node]
    }

    /// A node's index by name.
    pub fn node(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// Direct prerequisites of `node`.
    pub fn prerequisites(&self, node: usize) -> &[usize] {
        &self.prerequisites[node]
    }

    /// Nodes that list `node` as a direct prerequisite.
    pub fn dependents(&self, node: usize) -> &[usize] {
        &self.dependents[node]
    }

    /// Number of kept edges.
    pub fn edge_count(&self) -> usize {
        self.dependents.iter().map(Vec::len).sum()
    }

    /// The edges dropped to make the graph a DAG, with the reason.
    pub fn dropped(&self) -> &[DroppedEdge] {
        &self.dropped
    }

    /// A topological order (every node after its prerequisites); among ready nodes, the one
    /// listed first comes first.
    pub fn topological_order(&self) -> Vec<usize> {
        let mut indegree: Vec<usize> = self.prerequisites.iter().map(Vec::len).collect();
        let mut ready: BTreeSet<usize> = (0..self.len()).filter(|&v| indegree[v] == 0).collect();
        let mut order = Vec::with_capacity(self.len());
        while let Some(v) = ready.pop_first() {
            order.push(v);
            for &w in &self.dependents[v] {
                indegree[w] -= 1;
                if indegree[w] == 0 {
                    ready.insert(w);
                }
            }
        }
        order
    }

    /// All prerequisites of `node`, direct and indirect.
    pub fn ancestors(&self, node: usize) -> BTreeSet<usize> {
        let mut out = BTreeSet::new();
        let mut stack = self.prerequisites[node].clone();
        while let Some(v) = stack.pop() {
            if out.insert(v) {
                stack.extend_from_slice(&self.prerequisites[v]);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(nodes: &[&str], edges: &[(&str, &str)]) -> PrereqGraph {
        let nodes: Vec<String> = nodes.iter().map(|s| (*s).to_owned()).collect();
        let edges: Vec<(String, String)> = edges.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect();
        PrereqGraph::new(&nodes, &edges)
    }

    #[test]
    fn cycles_and_self_loops_are_reported_and_broken_deterministically() {
        let graph = g(&["a", "b", "c", "d"], &[("a", "b"), ("b", "c"), ("c", "a"), ("d", "d"), ("a", "b"), ("c", "d")]);
        let dropped: Vec<(&str, &str, Dropped)> =
            graph.dropped().iter().map(|e| (e.from.as_str(), e.to.as_str(), e.why)).collect();
        assert_eq!(
            dropped,
            [("d", "d", Dropped::SelfLoop), ("a", "b", Dropped::Duplicate), ("c", "a", Dropped::Cycle)]
        );
        assert_eq!(graph.edge_count(), 3);
        let order: Vec<&str> = graph.topological_order().iter().map(|&v| graph.name(v)).collect();
        assert_eq!(order, ["a", "b", "c", "d"]);
        assert_eq!(graph.ancestors(graph.node("d").unwrap()).len(), 3);
    }

    #[test]
    fn every_node_comes_after_its_prerequisites() {
        let graph = g(&["x", "y", "z", "w"], &[("z", "y"), ("y", "x"), ("w", "x"), ("x", "z")]);
        let order = graph.topological_order();
        assert_eq!(order.len(), 4);
        let pos = |v: usize| order.iter().position(|&o| o == v).unwrap();
        for v in 0..graph.len() {
            for &p in graph.prerequisites(v) {
                assert!(pos(p) < pos(v));
            }
        }
        assert_eq!(graph.dropped().len(), 1);
    }

    proptest::proptest! {
        #[test]
        fn any_edge_list_becomes_a_dag(edges in proptest::collection::vec((0u8..8, 0u8..8), 0..40)) {
            let names: Vec<String> = (0..8).map(|i| format!("n{i}")).collect();
            let e: Vec<(String, String)> = edges.iter().map(|&(a, b)| (names[a as usize].clone(), names[b as usize].clone())).collect();
            let graph = PrereqGraph::new(&names, &e);
            proptest::prop_assert_eq!(graph.topological_order().len(), 8);
            proptest::prop_assert_eq!(graph.edge_count() + graph.dropped().len(), e.len());
        }
    }
}
