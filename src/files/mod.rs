//! Reading and writing whole files safely: [`capped`] reads a text file no larger than a
//! cap and refuses binary or non-UTF-8 content; [`atomic`] replaces a file whole or not at
//! all. Callers turn the typed errors into their own messages.

pub mod atomic;
pub mod capped;
