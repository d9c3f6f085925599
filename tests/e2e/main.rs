//! End-to-end tests: one test binary (one link step), a module per area. Every test runs the
//! real `tandem` binary in a private home.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod app;
mod brief;
mod claude_code_cli;
mod doctor;
mod extension;
mod home;
mod hub;
mod install;
mod memory;
mod memory_interop;
mod memory_safety;
mod plugin;
mod share;
mod team;
mod windows;
mod windows_configs;
mod workspace;
