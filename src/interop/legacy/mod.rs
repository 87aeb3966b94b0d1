//! damo's legacy one-line scheme format (`.damos` files): parsed with located diagnostics
//! ([`parse`]) and translated to one policy file ([`translate`]), which names the values damo's
//! float arithmetic would have rounded ([`rounding`]).

pub mod parse;
pub mod rounding;
pub mod translate;
