//! In-process tests of both servers over `tokio::io::duplex`: what a client sees when it
//! connects, one module per area (one test binary, one link step).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod all;
mod common;
mod definitions;
mod dispatch;
mod notifications;
