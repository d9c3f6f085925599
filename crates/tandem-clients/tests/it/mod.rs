mod common;
mod concurrent;
mod hook;
mod install;
mod roundtrip;
mod status;
