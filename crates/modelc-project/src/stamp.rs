//! Stamps of the files and folders a load read, so that a later compile can tell
//! which files changed without reading them all again (as git's index does): a file
//! whose size and modification time are unchanged is unchanged; any other file is
//! read and its content hash compared.
//!
//! A modification time is trusted only when it is older than the stamp by more
//! than the file system's timestamp granularity ("racy" files are always hashed),
//! and a folder's entries are listed again whenever its modification time moved.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// A 128-bit content hash, as two halves.
pub type Hash = (u64, u64);

/// Content hash of a text.
pub fn hash_text(text: &str) -> Hash {
    hash_bytes(text.as_bytes())
}

/// Content hash of a file's bytes: of its text as read (without a byte order mark,
/// as [`crate::strip_bom`] reads it).
fn hash_bytes(bytes: &[u8]) -> Hash {
    let v = xxhash_rust::xxh3::xxh3_128(without_bom(bytes));
    ((v >> 64) as u64, v as u64)
}

fn without_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes)
}

/// How recent a modification time must not be for it to be trusted.
const RACY: Duration = Duration::from_secs(2);

/// Size and modification time (nanoseconds); `mtime` 0: not to be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    /// Size in bytes.
    pub len: u64,
    /// Modification time in nanoseconds since the epoch; 0 when too recent to trust.
    pub mtime: u64,
}

impl Meta {
    pub(crate) fn of(m: &std::fs::Metadata) -> Meta {
        let mtime = m.modified().unwrap_or(UNIX_EPOCH);
        let trusted = mtime + RACY < SystemTime::now();
        Meta {
            len: m.len(),
            mtime: if trusted {
                mtime
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(0)
            } else {
                0
            },
        }
    }

    /// Whether `now` proves the file unchanged.
    fn proves_unchanged(&self, now: &std::fs::Metadata) -> bool {
        self.mtime != 0 && Meta::of(now) == *self
    }
}

/// A file read (or looked for) by the load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStamp {
    /// Absolute path.
    pub path: PathBuf,
    /// `None`: the file did not exist.
    pub meta: Option<Meta>,
    /// Hash of the content read; `None` when only the metadata is known (seeds):
    /// then any change of size or time counts as a change.
    pub hash: Option<Hash>,
}

/// A folder listed by the load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirStamp {
    /// Absolute path.
    pub path: PathBuf,
    /// `None`: the folder did not exist.
    pub meta: Option<Meta>,
    /// Hash of its visible entries (names and whether each is a folder).
    pub entries: Hash,
}

/// Everything a load read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamps {
    /// Files.
    pub files: Vec<FileStamp>,
    /// Folders.
    pub dirs: Vec<DirStamp>,
}

/// Stamp of a file before it is read: taken first, so that a change racing with
/// the read shows as a different modification time later.
pub(crate) fn pre_stamp(path: &Path) -> FileStamp {
    FileStamp {
        path: path.to_path_buf(),
        meta: std::fs::metadata(path).ok().map(|m| Meta::of(&m)),
        hash: None,
    }
}

/// Stamp of a file the load reads only in part (a seed's header): its metadata, and
/// its content hash only when the modification time is too recent to trust.
pub(crate) fn metadata_stamp(path: &Path) -> FileStamp {
    let mut stamp = pre_stamp(path);
    if stamp.meta.is_some_and(|m| m.mtime == 0) {
        stamp.hash = std::fs::read(path).ok().map(|b| hash_bytes(&b));
    }
    stamp
}

/// The visible entries of a folder, sorted, with whether each is a folder.
pub(crate) fn entries_hash(entries: &mut [(String, bool)]) -> Hash {
    entries.sort();
    let mut text = String::new();
    for (name, dir) in entries.iter() {
        text.push_str(name);
        text.push(if *dir { '/' } else { '\n' });
    }
    hash_text(&text)
}

/// Lists a folder's visible entries (hidden ones are not project files).
pub(crate) fn list_dir(dir: &Path) -> std::io::Result<Vec<(String, bool, PathBuf)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        // A symbolic link to a folder is a folder (as dbt follows links); the walk
        // stops at links that lead back into a folder it is already inside.
        let is_dir = match entry.file_type() {
            Ok(t) if t.is_symlink() => std::fs::metadata(entry.path()).is_ok_and(|m| m.is_dir()),
            Ok(t) => t.is_dir(),
            Err(_) => false,
        };
        out.push((name, is_dir, entry.path()));
    }
    Ok(out)
}

fn dir_stamp(path: &Path) -> DirStamp {
    let meta = std::fs::metadata(path).ok().map(|m| Meta::of(&m));
    let mut entries: Vec<(String, bool)> = list_dir(path)
        .map(|l| l.into_iter().map(|(n, d, _)| (n, d)).collect())
        .unwrap_or_default();
    DirStamp {
        path: path.to_path_buf(),
        meta,
        entries: entries_hash(&mut entries),
    }
}

/// What changed since the stamps were taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changes {
    /// Only the content of these files.
    Files(Vec<ChangedFile>),
    /// Something else: a file or folder appeared or disappeared, or a file known
    /// only by its metadata changed. Only a full load can tell what it means.
    Other,
}

/// A file whose content changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedFile {
    /// Absolute path.
    pub path: PathBuf,
    /// The new content.
    pub text: String,
    /// Its metadata, taken before it was read.
    meta: Meta,
}

impl Stamps {
    /// Compares the stamps with the file system now.
    pub fn changes(&self) -> Changes {
        let dirs_same = self.dirs.par_iter().all(|d| {
            let now = std::fs::metadata(&d.path).ok();
            match (&d.meta, now) {
                (None, None) => true,
                (Some(m), Some(now)) if m.proves_unchanged(&now) => true,
                (Some(_), Some(_)) => dir_stamp(&d.path).entries == d.entries,
                _ => false,
            }
        });
        if !dirs_same {
            return Changes::Other;
        }
        let checked: Vec<Option<Option<ChangedFile>>> = self
            .files
            .par_iter()
            .map(|f| {
                let now = std::fs::metadata(&f.path).ok();
                match (&f.meta, now) {
                    (None, None) => Some(None),
                    (Some(m), Some(now)) if m.proves_unchanged(&now) => Some(None),
                    (Some(_), Some(now)) => {
                        let hash = f.hash?;
                        let bytes = std::fs::read(&f.path).ok()?;
                        if hash_bytes(&bytes) == hash {
                            return Some(None);
                        }
                        let text = String::from_utf8(without_bom(&bytes).to_vec()).ok()?;
                        Some(Some(ChangedFile {
                            path: f.path.clone(),
                            text,
                            meta: Meta::of(&now),
                        }))
                    }
                    _ => None,
                }
            })
            .collect();
        match checked.into_iter().collect::<Option<Vec<_>>>() {
            Some(changed) => Changes::Files(changed.into_iter().flatten().collect()),
            None => Changes::Other,
        }
    }

    /// Takes a changed file's new content as the stamped one.
    pub fn update(&mut self, changed: &ChangedFile) {
        if let Some(f) = self.files.iter_mut().find(|f| f.path == changed.path) {
            f.meta = Some(changed.meta);
            f.hash = Some(hash_text(&changed.text));
        }
    }
}
