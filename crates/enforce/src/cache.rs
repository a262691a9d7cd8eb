//! (being written: cache and watch)
