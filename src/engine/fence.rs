//! The engine's right to write orders.
//!
//! A single engine holds it for as long as it runs (the advisory lock of
//! `store::engine_lock` keeps any other engine off the database). In a
//! cluster it is the ordering lease: `crate::cluster` sets the epoch it
//! took and clears it when the lease is lost; the order writer reads it for
//! every transaction and has the database check it inside that
//! transaction (`store::lease::check_epoch`), so a node that was paused or
//! cut off while another took over can never commit an order. Line
//! changes and weighing after the sale check it the same way.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// Cheap to clone; every clone sees the same state.
#[derive(Clone, Debug)]
pub struct Fence {
    kind: Kind,
}

#[derive(Clone, Debug)]
enum Kind {
    /// The only engine on its database: always allowed, nothing to check.
    Single,
    /// A cluster node: the epoch of the lease it holds, 0 when none.
    Lease(Arc<AtomicI64>),
}

/// What the writer must do before committing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteRight {
    /// Commit (a single engine).
    Unchecked,
    /// Commit only if the lease still carries this epoch.
    Epoch(i64),
    /// This node does not hold the lease: write nothing.
    NotHeld,
}

impl Fence {
    /// A single engine's fence: always held.
    pub fn single() -> Self {
        Self { kind: Kind::Single }
    }

    /// A cluster node's fence, not held until [`Fence::hold`].
    pub fn lease() -> Self {
        Self {
            kind: Kind::Lease(Arc::new(AtomicI64::new(0))),
        }
    }

    /// The node took the lease at `epoch` (≥ 1).
    pub fn hold(&self, epoch: i64) {
        if let Kind::Lease(held) = &self.kind {
            held.store(epoch.max(1), Ordering::Release);
        }
    }

    /// The node lost (or gave up) the lease.
    pub fn release(&self) {
        if let Kind::Lease(held) = &self.kind {
            held.store(0, Ordering::Release);
        }
    }

    /// Whether this engine may take orders now.
    pub fn is_held(&self) -> bool {
        self.right() != WriteRight::NotHeld
    }

    /// The epoch a transaction that writes orders outside the writer (a
    /// line changed or weighed after the sale) must find in the lease:
    /// `None` for a single engine (nothing to check), `Fenced` when this
    /// node does not hold the lease (write nothing).
    pub fn epoch_to_check(&self) -> Result<Option<i64>, crate::store::DbError> {
        match self.right() {
            WriteRight::Unchecked => Ok(None),
            WriteRight::Epoch(epoch) => Ok(Some(epoch)),
            WriteRight::NotHeld => Err(crate::store::DbError::Fenced {
                held: 0,
                current: 0,
            }),
        }
    }

    /// What a transaction of the writer must check.
    pub fn right(&self) -> WriteRight {
        match &self.kind {
            Kind::Single => WriteRight::Unchecked,
            Kind::Lease(held) => match held.load(Ordering::Acquire) {
                0 => WriteRight::NotHeld,
                epoch => WriteRight::Epoch(epoch),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_engine_always_writes_unchecked() {
        let fence = Fence::single();
        fence.release();
        assert_eq!(fence.right(), WriteRight::Unchecked);
        assert!(fence.is_held());
    }

    #[test]
    fn a_lease_fence_follows_the_lease_and_is_shared_by_clones() {
        let fence = Fence::lease();
        let writer_side = fence.clone();
        assert_eq!(writer_side.right(), WriteRight::NotHeld);
        fence.hold(7);
        assert_eq!(writer_side.right(), WriteRight::Epoch(7));
        assert!(writer_side.is_held());
        assert_eq!(writer_side.epoch_to_check().ok(), Some(Some(7)));
        fence.release();
        assert_eq!(writer_side.right(), WriteRight::NotHeld);
        assert!(writer_side.epoch_to_check().is_err());
        assert_eq!(Fence::single().epoch_to_check().ok(), Some(None));
    }
}
