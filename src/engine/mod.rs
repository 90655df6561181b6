//! The ordering engine: offer and distribution actors, their registry, the
//! group-committing order writer and the event hub. Time comes only from
//! [`clock`], so every rule that depends on "now" is testable.

pub mod clock;
