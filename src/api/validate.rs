//! Gathering every invalid field of a request before answering, so a client
//! learns all its mistakes from one 422 instead of one per round trip.

use super::problem::ApiError;
use crate::domain::error::FieldError;

/// Collects the outcome of several domain parsers.
#[derive(Debug, Default)]
pub struct Collect {
    errors: Vec<FieldError>,
}

impl Collect {
    /// Keeps the value, or records the error and yields `None`.
    pub fn field<T>(&mut self, parsed: Result<T, FieldError>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(e) => {
                self.errors.push(e);
                None
            }
        }
    }

    /// Records an error found by the caller itself.
    pub fn push(&mut self, error: FieldError) {
        self.errors.push(error);
    }

    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// `Ok(())` when nothing was wrong, else the 422 naming every field.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::invalid_fields(self.errors))
        }
    }

    /// The 422 for what was collected (call when a value is missing).
    pub fn into_error(self) -> ApiError {
        if self.errors.is_empty() {
            ApiError::internal()
        } else {
            ApiError::invalid_fields(self.errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_every_error() {
        let mut c = Collect::default();
        assert_eq!(c.field::<u8>(Ok(3)), Some(3));
        assert_eq!(c.field::<u8>(Err(FieldError::new("a", "bad"))), None);
        c.push(FieldError::new("b", "worse"));
        let e = c.into_error();
        assert_eq!(e.body()["errors"].as_array().map(Vec::len), Some(2));
    }
}
