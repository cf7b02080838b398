//! [`Catalog`]: where lineage analysis learns the columns of the relations a
//! query reads, plus a simple map-backed implementation.

use std::collections::HashMap;

use crate::RelationName;

/// Column knowledge about relations, used to expand `*` and to decide which
/// relation an unqualified column belongs to.
pub trait Catalog {
    /// Known columns of `relation`, in order, or `None` when unknown.
    ///
    /// Called with the name as written in the SQL (`orders`, `main.orders`...),
    /// so implementations decide how to resolve partial names.
    fn columns(&self, relation: &RelationName) -> Option<Vec<String>>;

    /// Whether the columns known for `relation` are all it has (a model's or a
    /// seed's), rather than the ones someone declared (a source's YAML): a column
    /// missing from an incomplete list may still be there.
    fn complete(&self, _relation: &RelationName) -> bool {
        true
    }

    /// The types of the columns [`Catalog::columns`] gives, in the same order
    /// (`None` for a column whose type is unknown), or `None` when no type is known.
    fn types(&self, _relation: &RelationName) -> Option<Vec<Option<crate::Ty>>> {
        None
    }
}

/// A map from relation name to columns.
///
/// Keys must be lowercase: either a dotted name (`"raw.orders"`,
/// `"db.raw.orders"`) or a bare table name (`"orders"`). A lookup lowercases
/// the name as written and tries the full dotted name first, then ever shorter
/// suffixes down to the bare table name: `Raw.Orders` finds `"raw.orders"`,
/// else `"orders"`. Quoted parts containing dots are not escaped.
impl Catalog for HashMap<String, Vec<String>> {
    fn columns(&self, relation: &RelationName) -> Option<Vec<String>> {
        let mut key = String::new();
        (0..relation.parts.len()).find_map(|start| {
            key.clear();
            for (i, part) in relation.parts[start..].iter().enumerate() {
                if i > 0 {
                    key.push('.');
                }
                key.extend(part.chars().flat_map(char::to_lowercase));
            }
            self.get(&key).cloned()
        })
    }
}

/// A catalog that knows nothing: every `*` stays unexpanded.
impl Catalog for () {
    fn columns(&self, _relation: &RelationName) -> Option<Vec<String>> {
        None
    }
}
