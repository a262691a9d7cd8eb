//! waxseal-log
