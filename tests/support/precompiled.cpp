// The translation unit that builds the tests' precompiled header (TrainyardTesting.cmake);
// it has no code of its own.
