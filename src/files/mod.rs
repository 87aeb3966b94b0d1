//! Reading whole files safely: [`capped`] reads a text file no larger than a cap and
//! refuses binary or non-UTF-8 content. Callers turn the typed errors into their own
//! messages.

pub mod capped;
