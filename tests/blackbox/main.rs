//! The black-box suites: the real `tarn` binary driven over HTTP by real
//! clients, as one test binary (`cargo test --test blackbox`).
//!
//! `make test` runs this binary once per backend: on memory (the default),
//! on PostgreSQL (`TARN_TEST_DATABASE=postgres`), on PostgreSQL + S3
//! (`TARN_TEST_BLOCKSTORE=s3` with the production example configuration)
//! and on SQLite (`TARN_TEST_DATABASE=sqlite`); see [`support::Run`]. A new
//! module here runs on all of them. A suite that only makes sense on some
//! runs says so at its start (`support::Run::skip_unless`) and prints why it
//! skips on the others.

#![allow(clippy::unwrap_used)]

mod support;

mod abuse;
mod actions;
mod actions_airflow;
mod actions_lua;
mod api;
mod api_storage;
mod archives;
mod cli;
mod cli_admin;
mod cli_local;
mod cli_transfer;
mod crash;
mod engine_metrics;
mod gateway;
mod gateway_sdk;
mod gc;
mod gc_race;
mod import;
mod layered_trees;
mod multi_instance;
mod operations;
mod otlp;
mod persistence;
mod rbac_api;
mod rbac_gateway;
mod refs_cli;
mod serve;
