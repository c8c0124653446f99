//! Organisations behind domains: the entity data file, its format and longest-suffix matching.
