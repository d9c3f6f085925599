mod common;
mod concurrent;
mod install;
mod roundtrip;
mod status;
