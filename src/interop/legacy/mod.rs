//! damo's legacy one-line scheme format (`.damos` files): parsed with located diagnostics
//! ([`parse`]) and translated to one policy file ([`translate`]).

pub mod parse;
pub mod translate;
