//! damo's kdamonds tree (`{"kdamonds": [...]}`), described once as types ([`mod@format`]):
//! written from compiled policies ([`export`]) and read into policy files ([`import`]), from
//! JSON or YAML ([`document`], with [`yaml`] reading YAML as damo reads it).

pub mod document;
pub mod export;
pub mod format;
pub mod import;
pub mod yaml;
