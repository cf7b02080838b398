//! Cancelling a run (Ctrl-C): no new node starts, and the statements running are
//! interrupted, so their transactions roll back and every relation keeps its old
//! version.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::adapter::Interrupt;

/// Shared between the runner and whoever cancels (a signal handler's thread).
#[derive(Default)]
pub struct Cancel {
    cancelled: AtomicBool,
    connections: Mutex<Vec<Arc<dyn Interrupt>>>,
}

impl Cancel {
    /// A token not cancelled yet.
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Stops the run: no node starts after this, and running statements are
    /// interrupted. Safe to call from any thread, any number of times.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        self.interrupt_all();
    }

    /// Whether [`Cancel::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }

    /// Interrupts every registered connection (again: an interrupt that reaches a
    /// connection between two statements of a node is repeated until it stops).
    pub(crate) fn interrupt_all(&self) {
        if let Ok(conns) = self.connections.lock() {
            for c in conns.iter() {
                c.interrupt();
            }
        }
    }

    /// Registers a connection of the run, to be interrupted on cancel.
    pub(crate) fn register(&self, handle: Arc<dyn Interrupt>) {
        if let Ok(mut conns) = self.connections.lock() {
            conns.push(handle);
        }
        if self.is_cancelled() {
            self.interrupt_all();
        }
    }
}
