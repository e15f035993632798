//! Lexing.
