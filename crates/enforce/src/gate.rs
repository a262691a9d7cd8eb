//! (being written: admission)
