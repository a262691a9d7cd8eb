//! Integration tests of the signing client against an in-process instance.
