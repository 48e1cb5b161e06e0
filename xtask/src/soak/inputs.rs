//! Hostile inputs to the small tools: corrupt supervise/status, random
//! envdir trees, random svlogd config files.
use super::Soak;
pub fn corrupt_status(_s: &mut Soak) {}
pub fn envdir_trees(_s: &mut Soak) {}
pub fn svlogd_config(_s: &mut Soak) {}
