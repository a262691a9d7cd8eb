//! waxseal-note
