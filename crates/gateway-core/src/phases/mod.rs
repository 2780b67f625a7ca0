//! One trait per pipeline phase. Each is implemented in its own crate and assembled by
//! `gateway-app` (or by an embedding service) into a [`crate::Gateway`].

pub mod account;
pub mod admission;
pub mod auth;
pub mod cache;
pub mod guard;
pub mod output_cap;
pub mod route;
