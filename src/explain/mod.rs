//! explain: pure decisions that explain a creation from evidence the engine gathered — which
//! library call made it (`via`). No I/O: the engine reads registers, maps and files; this only
//! judges what they say.

pub mod via;

pub use via::{Flavour, Site, decide_via};
