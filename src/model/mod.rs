//! What a policy is, in two shapes: as written ([`wire`], serde + schemars, the source of
//! the JSON schema) and resolved ([`resolved`], every default applied, kernel units). The
//! human units between them and their grammar are [`units`]; the values of omitted keys are
//! [`defaults`]; what a policy may be named is [`name`].

pub mod defaults;
pub mod name;
pub mod resolved;
pub mod units;
pub mod wire;
