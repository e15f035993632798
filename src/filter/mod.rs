//! The filter language (filter-language.md): text, structured and Logpush filters,
//! one canonical IR, one compiled evaluator.
