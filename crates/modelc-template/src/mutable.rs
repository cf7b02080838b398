//! Mutable lists and dicts, as Jinja2 (and so dbt's packages) has them.
//!
//! minijinja's list and map values are immutable, but dbt code builds results with
//! `{% do fields.append(x) %}` and `{% do columns.update({k: v}) %}`. The
//! preprocessor ([`crate::preprocess::mutable_literals`]) turns the list and dict
//! literals of `set` and `do` tags into calls of [`LIST_FN`] and [`DICT_FN`], which
//! make these objects: they behave as minijinja's own sequences and maps (iteration,
//! indexing, `length`, `in`, filters, serialization) and have Python's mutating
//! methods.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use minijinja::value::{Enumerator, Object, ObjectRepr, Value, ValueKind};
use minijinja::{Error, ErrorKind, State};

/// The function that makes a mutable list from a list literal.
pub const LIST_FN: &str = "__modelc_list";
/// The function that makes a mutable dict from a dict literal.
pub const DICT_FN: &str = "__modelc_dict";

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock only means another render panicked; the data is still usable.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn arg(args: &[Value], i: usize, method: &str) -> Result<Value, Error> {
    args.get(i)
        .cloned()
        .ok_or_else(|| Error::new(ErrorKind::MissingArgument, format!("{method}() needs an argument")))
}

/// A list with `append`, `extend`, `insert`, `pop`, `remove`, `index`, `count`,
/// `reverse`, `sort`, `copy`.
#[derive(Debug, Default)]
pub struct List(Mutex<Vec<Value>>);

impl List {
    /// A mutable list holding `items`.
    pub fn new_value(items: Vec<Value>) -> Value {
        Value::from_object(List(Mutex::new(items)))
    }
}

impl Object for List {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let items = lock(&self.0);
        let i = key.as_i64()?;
        let i = if i < 0 { items.len() as i64 + i } else { i };
        items.get(usize::try_from(i).ok()?).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(lock(&self.0).clone())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(lock(&self.0).len())
    }

    fn call_method(self: &Arc<Self>, _state: &mut State<'_, '_>, method: &str, args: &[Value]) -> Result<Value, Error> {
        let mut items = lock(&self.0);
        match method {
            "append" => items.push(arg(args, 0, method)?),
            // A set's `add` (`set()` makes lists).
            "add" => {
                let v = arg(args, 0, method)?;
                if !items.contains(&v) {
                    items.push(v);
                }
            }
            "extend" => {
                let more: Vec<Value> = arg(args, 0, method)?.try_iter()?.collect();
                items.extend(more);
            }
            "insert" => {
                let at = arg(args, 0, method)?.as_i64().unwrap_or(0).clamp(0, items.len() as i64) as usize;
                items.insert(at, arg(args, 1, method)?);
            }
            "pop" => {
                let len = items.len() as i64;
                let at = args.first().and_then(Value::as_i64).unwrap_or(-1);
                let at = if at < 0 { len + at } else { at };
                return match usize::try_from(at).ok().filter(|i| *i < items.len()) {
                    Some(i) => Ok(items.remove(i)),
                    None => Err(Error::new(ErrorKind::InvalidOperation, "pop index out of range")),
                };
            }
            "remove" => {
                let v = arg(args, 0, method)?;
                match items.iter().position(|x| *x == v) {
                    Some(i) => {
                        items.remove(i);
                    }
                    None => return Err(Error::new(ErrorKind::InvalidOperation, format!("{v} is not in list"))),
                }
            }
            "index" => {
                let v = arg(args, 0, method)?;
                return match items.iter().position(|x| *x == v) {
                    Some(i) => Ok(Value::from(i)),
                    None => Err(Error::new(ErrorKind::InvalidOperation, format!("{v} is not in list"))),
                };
            }
            "count" => {
                let v = arg(args, 0, method)?;
                return Ok(Value::from(items.iter().filter(|x| **x == v).count()));
            }
            "reverse" => items.reverse(),
            "sort" => items.sort(),
            "clear" => items.clear(),
            "copy" => return Ok(List::new_value(items.clone())),
            _ => return Err(Error::from(ErrorKind::UnknownMethod)),
        }
        Ok(Value::from(()))
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&Value::from(lock(&self.0).clone()), f)
    }
}

/// A dict, in insertion order, with `update`, `pop`, `setdefault`, `get`, `items`,
/// `keys`, `values`, `copy`.
#[derive(Debug, Default)]
pub struct Dict(Mutex<Vec<(Value, Value)>>);

impl Dict {
    /// A mutable dict holding the entries of `map` (any map value).
    pub fn new_value(map: &Value) -> Result<Value, Error> {
        let mut entries = Vec::new();
        if !map.is_undefined() && !map.is_none() {
            for k in map.try_iter()? {
                let v = map.get_item(&k)?;
                entries.push((k, v));
            }
        }
        Ok(Value::from_object(Dict(Mutex::new(entries))))
    }

    /// A mutable dict holding `entries`, in their order.
    pub fn from_entries(entries: Vec<(Value, Value)>) -> Value {
        Value::from_object(Dict(Mutex::new(entries)))
    }

    fn set(entries: &mut Vec<(Value, Value)>, k: Value, v: Value) {
        match entries.iter_mut().find(|(key, _)| *key == k) {
            Some(e) => e.1 = v,
            None => entries.push((k, v)),
        }
    }
}

impl Object for Dict {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        lock(&self.0).iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(lock(&self.0).iter().map(|(k, _)| k.clone()).collect())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(lock(&self.0).len())
    }

    fn call_method(self: &Arc<Self>, _state: &mut State<'_, '_>, method: &str, args: &[Value]) -> Result<Value, Error> {
        let mut entries = lock(&self.0);
        match method {
            "update" => {
                let other = arg(args, 0, method)?;
                if other.kind() != ValueKind::Map {
                    return Err(Error::new(ErrorKind::InvalidOperation, "update() takes a dict"));
                }
                for k in other.try_iter()? {
                    let v = other.get_item(&k)?;
                    Dict::set(&mut entries, k, v);
                }
                Ok(Value::from(()))
            }
            "pop" => {
                let k = arg(args, 0, method)?;
                match entries.iter().position(|(key, _)| *key == k) {
                    Some(i) => Ok(entries.remove(i).1),
                    None => args
                        .get(1)
                        .cloned()
                        .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, format!("key {k} not in dict"))),
                }
            }
            "setdefault" => {
                let k = arg(args, 0, method)?;
                if let Some((_, v)) = entries.iter().find(|(key, _)| *key == k) {
                    return Ok(v.clone());
                }
                let v = args.get(1).cloned().unwrap_or(Value::from(()));
                entries.push((k, v.clone()));
                Ok(v)
            }
            "get" => {
                let k = arg(args, 0, method)?;
                Ok(entries
                    .iter()
                    .find(|(key, _)| *key == k)
                    .map(|(_, v)| v.clone())
                    .or_else(|| args.get(1).cloned())
                    .unwrap_or(Value::from(())))
            }
            "keys" => Ok(Value::from(entries.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>())),
            "values" => Ok(Value::from(entries.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>())),
            "items" => Ok(Value::from(
                entries
                    .iter()
                    .map(|(k, v)| Value::from(vec![k.clone(), v.clone()]))
                    .collect::<Vec<_>>(),
            )),
            "clear" => {
                entries.clear();
                Ok(Value::from(()))
            }
            "copy" => Ok(Value::from_object(Dict(Mutex::new(entries.clone())))),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let map: std::collections::BTreeMap<Value, Value> = lock(&self.0).iter().cloned().collect();
        fmt::Display::fmt(&Value::from(map), f)
    }
}

/// Python's methods on values that are not [`List`]s or [`Dict`]s: minijinja-contrib's
/// `pycompat`, plus what it lacks for sequences (`index`, `count`), and a clear
/// error for mutating a sequence that is not a mutable list (one a filter made).
pub fn unknown_method(state: &mut State, value: &Value, method: &str, args: &[Value]) -> Result<Value, Error> {
    if value.kind() == ValueKind::Seq {
        match method {
            "index" => {
                let v = arg(args, 0, method)?;
                return match value.try_iter()?.position(|x| x == v) {
                    Some(i) => Ok(Value::from(i)),
                    None => Err(Error::new(ErrorKind::InvalidOperation, format!("{v} is not in list"))),
                };
            }
            "count" => {
                let v = arg(args, 0, method)?;
                return Ok(Value::from(value.try_iter()?.filter(|x| *x == v).count()));
            }
            "append" | "extend" | "insert" | "pop" | "remove" | "sort" | "reverse" | "clear" => {
                return Err(Error::new(
                    ErrorKind::InvalidOperation,
                    format!(
                        "cannot {method}() this list: it was made by a filter or function, not a list literal; build it with `[]` first"
                    ),
                ));
            }
            _ => {}
        }
    }
    minijinja_contrib::pycompat::unknown_method_callback(state, value, method, args)
}
