//! The throwaway PostgreSQL cluster of this test binary: the `mssd-pg-test` crate, shared with
//! the end-to-end tests.

pub use mssd_pg_test::*;
