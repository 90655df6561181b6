//! The OpenAPI document against the engine that serves it: schemathesis
//! fuzzes every operation (`tests/contract/schemathesis.rs`). Its own test
//! binary, so the fuzzing runs beside the API tests instead of after them;
//! it reuses the API tests' harness as it is.

#[path = "../api/fixtures.rs"]
mod fixtures;
#[path = "../api/helpers.rs"]
mod helpers;

mod schemathesis;
