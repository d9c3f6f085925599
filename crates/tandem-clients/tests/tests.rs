//! Integration tests, compiled as one crate (one link step).
// Helpers outside #[test] functions panic on purpose too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod it;
