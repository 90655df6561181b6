//! A browser without a browser, for the page tests: keeps the cookies the
//! engine sets (as a browser on `127.0.0.1` does, `Secure` ones included),
//! follows no redirect by itself, and posts forms with the page's CSRF
//! token unless told to forge them.

// Shared test support: not every test uses every helper.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use reqwest::header::{HeaderMap, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use reqwest::StatusCode;

use crate::helpers::{TestApp, TestUser};

/// A page as the engine answered it.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub body: String,
    pub headers: HeaderMap,
}

impl Page {
    /// Asserts the status, showing the page when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Page {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; page: {}",
            self.body
        );
        self
    }

    /// Where a redirect goes.
    #[track_caller]
    pub fn location(&self) -> String {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no Location ({}): {}", self.status, self.body))
            .to_owned()
    }

    /// The French error shown next to field `name`, if any.
    pub fn field_error(&self, name: &str) -> Option<String> {
        let marker = format!("id=\"erreur-{name}\">");
        let start = self.body.find(&marker)? + marker.len();
        let end = self.body[start..].find("</p>")?;
        Some(unescape(&self.body[start..start + end]))
    }

    /// The value a text field shows.
    pub fn field_value(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\"");
        let at = self.body.find(&marker)?;
        let tag_end = self.body[at..].find('>')? + at;
        let tag = &self.body[at..tag_end];
        let value = tag.split("value=\"").nth(1)?;
        Some(unescape(&value[..value.find('"')?]))
    }

    /// Whether the page's text contains `text` (HTML entities decoded).
    pub fn shows(&self, text: &str) -> bool {
        unescape(&self.body).contains(text)
    }

    /// The `Set-Cookie` header of cookie `name`.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }
}

/// Decodes the entities askama writes.
pub fn unescape(html: &str) -> String {
    html.replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// One visitor's browser: its cookie jar.
pub struct WebClient {
    address: String,
    http: reqwest::Client,
    cookies: Mutex<HashMap<String, String>>,
}

impl WebClient {
    pub fn new(app: &TestApp) -> WebClient {
        WebClient {
            address: app.address.clone(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(30))
                .build()
                .expect("http client"),
            cookies: Mutex::new(HashMap::new()),
        }
    }

    /// The value of a cookie this browser holds.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().expect("jar").get(name).cloned()
    }

    /// Sets a cookie by hand (to replay an old session).
    pub fn set_cookie(&self, name: &str, value: &str) {
        self.cookies
            .lock()
            .expect("jar")
            .insert(name.to_owned(), value.to_owned());
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .lock()
            .expect("jar")
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&self, headers: &HeaderMap) {
        let mut jar = self.cookies.lock().expect("jar");
        for value in headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            let pair = value.split(';').next().unwrap_or_default();
            let Some((name, value_part)) = pair.split_once('=') else {
                continue;
            };
            let removed = value.contains("Max-Age=0") || value_part.is_empty();
            if removed {
                jar.remove(name.trim());
            } else {
                jar.insert(name.trim().to_owned(), value_part.to_owned());
            }
        }
    }

    async fn finish(&self, answer: reqwest::Response) -> Page {
        let status = answer.status();
        let headers = answer.headers().clone();
        self.keep_cookies(&headers);
        let body = answer.text().await.expect("page body");
        Page {
            status,
            body,
            headers,
        }
    }

    /// GET a page.
    pub async fn get(&self, path: &str) -> Page {
        let answer = self
            .http
            .get(format!("{}{path}", self.address))
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .expect("GET");
        self.finish(answer).await
    }

    /// Follows a redirect chain from `path` and returns the last page.
    pub async fn follow(&self, path: &str) -> Page {
        let mut page = self.get(path).await;
        for _ in 0..5 {
            if !page.status.is_redirection() {
                break;
            }
            page = self.get(&page.location()).await;
        }
        page
    }

    /// Posts a form with this browser's CSRF token (a page is fetched
    /// first if the browser has none yet).
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        if self.cookie("etal_csrf").is_none() {
            self.get("/connexion").await;
        }
        let token = self.cookie("etal_csrf").expect("a CSRF cookie");
        let mut all: Vec<(&str, &str)> = vec![("csrf", token.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all, &[]).await
    }

    /// Posts exactly these fields (no token added) with extra headers.
    pub async fn post_raw(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Page {
        let body = serde_html_form::to_string(fields).expect("form body");
        let mut request = self
            .http
            .post(format!("{}{path}", self.address))
            .header(COOKIE, self.cookie_header())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.finish(request.send().await.expect("POST")).await
    }

    /// Posts a `multipart/form-data` form (text fields, then files as
    /// `(field, file name, content type, bytes)`), with the CSRF token
    /// unless `forge`.
    pub async fn post_multipart(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &str, &[u8])],
        forge: bool,
    ) -> Page {
        if self.cookie("etal_csrf").is_none() {
            self.get("/connexion").await;
        }
        let boundary = "----etal-test-boundary-7d1f";
        let mut body: Vec<u8> = Vec::new();
        let token = self.cookie("etal_csrf").unwrap_or_default();
        let mut all: Vec<(&str, &str)> = Vec::new();
        if !forge {
            all.push(("csrf", token.as_str()));
        }
        all.extend_from_slice(fields);
        for (name, value) in all {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        for (name, file_name, content_type, bytes) in files {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let answer = self
            .http
            .post(format!("{}{path}", self.address))
            .header(COOKIE, self.cookie_header())
            .header(
                CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .expect("POST multipart");
        self.finish(answer).await
    }

    /// Signs in through `/connexion`; returns where it landed.
    pub async fn sign_in(&self, user: &TestUser) -> String {
        self.post(
            "/connexion",
            &[
                ("email", user.email.as_str()),
                ("password", user.password.as_str()),
            ],
        )
        .await
        .expect(303)
        .location()
    }
}
