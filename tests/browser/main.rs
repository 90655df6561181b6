//! The web pages (`/shop/{id}`, `/board/{id}`) tested in real headless
//! Chromium browsers over WebDriver (chromedriver started by each test).
//! Its own test binary, so the API tests stay fast; it reuses the API
//! tests' harness and fixtures as they are.

#[path = "../api/fixtures.rs"]
mod fixtures;
#[path = "../api/helpers.rs"]
mod helpers;

mod driver;
mod guide;
mod holds;
mod producer;
mod sales;
mod shop;
mod web;
