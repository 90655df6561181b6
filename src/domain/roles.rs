//! Who may do what in a producer space.
//!
//! The owner of a producer space gives other accounts access as
//! collaborators (the FAQ's "onglet Utilisateurs", e.g. someone helping a
//! farmer during a rush). Collaborators run the space day to day — products,
//! offers, stock, catalogs, sales, recaps — but only the owner decides who
//! has access. These rules do not know the caller; the API looks up the
//! caller's role and asks here.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::error::FieldError;

/// An account's role in a producer space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProducerRole {
    /// Created the space; manages its members.
    Owner,
    /// Given access by the owner.
    Collaborator,
}

impl ProducerRole {
    /// Parses `"owner"` or `"collaborator"`.
    pub fn parse(value: &str, field: &str) -> Result<ProducerRole, FieldError> {
        match value.trim() {
            "owner" => Ok(ProducerRole::Owner),
            "collaborator" => Ok(ProducerRole::Collaborator),
            _ => Err(FieldError::new(
                field,
                "must be \"owner\" or \"collaborator\"",
            )),
        }
    }

    /// The stable wire and database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ProducerRole::Owner => "owner",
            ProducerRole::Collaborator => "collaborator",
        }
    }
}

impl fmt::Display for ProducerRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Only the owner adds or removes members.
pub fn can_manage_members(role: ProducerRole) -> bool {
    matches!(role, ProducerRole::Owner)
}

/// Why a member may not be removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemovalRefusal {
    /// Only the owner removes others (a collaborator may only leave).
    NotOwner,
    /// The space would have no owner left.
    LastOwner,
}

/// Whether `by` may remove a member whose role is `target` (`itself`: the
/// member leaves), when the space has `owners` owners.
pub fn removal_allowed(
    by: ProducerRole,
    target: ProducerRole,
    itself: bool,
    owners: usize,
) -> Result<(), RemovalRefusal> {
    if !itself && !can_manage_members(by) {
        return Err(RemovalRefusal::NotOwner);
    }
    if target == ProducerRole::Owner && owners <= 1 {
        return Err(RemovalRefusal::LastOwner);
    }
    Ok(())
}

/// Every member manages products, offers, VAT rates, stock, catalogs,
/// participations, orders and recaps of the space.
pub fn can_manage_producer(role: ProducerRole) -> bool {
    matches!(role, ProducerRole::Owner | ProducerRole::Collaborator)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_last_owner_stays_and_only_the_owner_removes_others() {
        use ProducerRole::{Collaborator, Owner};
        assert_eq!(removal_allowed(Owner, Collaborator, false, 1), Ok(()));
        assert_eq!(removal_allowed(Collaborator, Collaborator, true, 1), Ok(()));
        assert_eq!(
            removal_allowed(Collaborator, Collaborator, false, 1),
            Err(RemovalRefusal::NotOwner)
        );
        assert_eq!(
            removal_allowed(Owner, Owner, true, 1),
            Err(RemovalRefusal::LastOwner)
        );
        assert_eq!(removal_allowed(Owner, Owner, true, 2), Ok(()));
    }

    #[test]
    fn parse_and_spell() {
        for role in [ProducerRole::Owner, ProducerRole::Collaborator] {
            assert_eq!(ProducerRole::parse(role.as_str(), "role").unwrap(), role);
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{role}\""));
            assert_eq!(serde_json::from_str::<ProducerRole>(&json).unwrap(), role);
        }
        let e = ProducerRole::parse("admin", "role").unwrap_err();
        assert_eq!(e.field, "role");
        assert!(ProducerRole::parse("Owner", "role").is_err());
    }

    #[test]
    fn only_owner_manages_members() {
        assert!(can_manage_members(ProducerRole::Owner));
        assert!(!can_manage_members(ProducerRole::Collaborator));
        assert!(can_manage_producer(ProducerRole::Owner));
        assert!(can_manage_producer(ProducerRole::Collaborator));
    }
}
