//! explain: pure decisions that explain a creation from evidence the engine gathered — which
//! library call made it (`via`). No I/O: the engine reads registers, maps and files; this only
//! judges what they say.

pub mod via;

pub use via::{
    Callers, Flavour, Site, callers_needed, decide_via, may_name_runtime, path_may_name_runtime,
};
