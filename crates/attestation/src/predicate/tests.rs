//! Predicate check tables.
