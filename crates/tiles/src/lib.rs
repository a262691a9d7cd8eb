//! waxseal-tiles
