//! The front half of every command, before validation: find policy files and read them
//! ([`load`]), keep their text with the map from key paths to spans ([`source`]), parse a
//! large file a scheme at a time ([`pieces`]), read the directory's project file and its
//! kernel pin ([`project`]), refuse paths others could change ([`perms`]), and run it all
//! with validation for a set of paths ([`pipeline`]).

pub mod load;
pub mod perms;
pub mod pieces;
pub mod pipeline;
pub mod project;
pub mod source;
