//! Prerequisite tables: which skills (exercises, subjects) come before which.
//!
//! - Junyi Academy's exercise table (Chang, Hsu & Chen, EDM 2015): `name,…,prerequisites,…`
//!   with several prerequisite names comma-separated inside one quoted field.
//! - Eedi's subject tree (NeurIPS 2020 Education Challenge): `SubjectId,Name,ParentId,Level`;
//!   a parent subject is taken to come before its children.

use std::path::Path;

use crate::source::read_all;
use crate::table::csv_error;
use crate::{Error, Result};

/// Nodes and `before → after` edges as named in the file; cycles and self-loops are kept
/// (the graph built from them reports and breaks them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PrerequisiteTable {
    /// Every node, in file order.
    pub nodes: Vec<String>,
    /// Edges `(prerequisite, dependent)`.
    pub edges: Vec<(String, String)>,
}

/// Reads Junyi's `junyi_Exercise_table.csv` (plain or gzip; UTF-8 BOM allowed).
///
/// # Errors
/// I/O, non-UTF-8, a malformed row, a missing `name` or `prerequisites` column, or no rows.
pub fn read_junyi_prerequisites(path: &Path) -> Result<PrerequisiteTable> {
    let bytes = read_all(path)?;
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
    let mut r = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
    let header = r.headers().map_err(|e| csv_error(path, e))?.clone();
    let col = |name: &str| column(path, &header, name);
    let (name_col, pre_col) = (col("name")?, col("prerequisites")?);
    let mut table = PrerequisiteTable::default();
    for rec in r.records() {
        let rec = rec.map_err(|e| csv_error(path, e))?;
        let line = rec.position().map_or(0, |p| p.line() as usize);
        let name = rec.get(name_col).unwrap_or("").trim();
        if name.is_empty() {
            return Err(Error::BadField {
                path: path.to_owned(),
                line,
                field: "name".into(),
                value: String::new(),
                expected: "an exercise name",
            });
        }
        table.nodes.push(name.to_owned());
        for pre in rec.get(pre_col).unwrap_or("").split(',').map(str::trim).filter(|p| !p.is_empty()) {
            table.edges.push((pre.to_owned(), name.to_owned()));
        }
    }
    if table.nodes.is_empty() {
        return Err(Error::Empty { path: path.to_owned() });
    }
    Ok(table)
}

/// Reads Eedi's `subject_metadata.csv`: nodes are `Name (SubjectId)`, edges parent → child.
///
/// # Errors
/// As [`read_junyi_prerequisites`].
pub fn read_eedi_subjects(path: &Path) -> Result<PrerequisiteTable> {
    let bytes = read_all(path)?;
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
    let mut r = csv::ReaderBuilder::new().from_reader(bytes);
    let header = r.headers().map_err(|e| csv_error(path, e))?.clone();
    let col = |name: &str| column(path, &header, name);
    let (id_col, name_col, parent_col) = (col("SubjectId")?, col("Name")?, col("ParentId")?);
    let mut rows = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| csv_error(path, e))?;
        let id = rec.get(id_col).unwrap_or("").trim().to_owned();
        let name = rec.get(name_col).unwrap_or("").trim().to_owned();
        let parent = rec.get(parent_col).unwrap_or("").trim().to_owned();
        rows.push((id, name, parent));
    }
    let label: std::collections::HashMap<&str, String> =
        rows.iter().map(|(id, name, _)| (id.as_str(), format!("{name} ({id})"))).collect();
    let mut table = PrerequisiteTable::default();
    for (id, _, parent) in &rows {
        table.nodes.push(label[id.as_str()].clone());
        if let Some(p) = label.get(parent.as_str()) {
            table.edges.push((p.clone(), label[id.as_str()].clone()));
        }
    }
    if table.nodes.is_empty() {
        return Err(Error::Empty { path: path.to_owned() });
    }
    Ok(table)
}

/// The index of column `name` in `header`, or an error listing the columns there are.
fn column(path: &Path, header: &csv::StringRecord, name: &str) -> Result<usize> {
    header.iter().position(|h| h == name).ok_or_else(|| Error::UnknownColumn {
        path: path.to_owned(),
        column: name.to_owned(),
        available: header.iter().collect::<Vec<_>>().join(", "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_quoted_multi_prerequisites() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("j.csv");
        std::fs::write(&p, "\u{feff}name,live,prerequisites\na,TRUE,\nb,TRUE,a\nc,TRUE,\"a,b\"\n").unwrap();
        let t = read_junyi_prerequisites(&p).unwrap();
        assert_eq!(t.nodes, ["a", "b", "c"]);
        assert_eq!(t.edges, [("a".into(), "b".into()), ("a".into(), "c".into()), ("b".into(), "c".into())]);
        std::fs::write(&p, "title,prerequisites\nx,y\n").unwrap();
        assert!(read_junyi_prerequisites(&p).unwrap_err().to_string().contains("no column \"name\""));
    }
}
