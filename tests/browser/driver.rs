//! Real browsers for the page tests: a chromedriver started by the test on
//! a free port (killed with its Chromium children when the test ends, even
//! on panic), headless Chromium sessions with the flags a closed network
//! needs, bounded waits on a condition in the page, and screenshots saved
//! under `target/screenshots/`.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use uuid::Uuid;

/// Longest wait for something the page shows after an event.
pub const EVENT_WAIT: Duration = Duration::from_secs(5);
/// Poll period of [`Browser::wait_for`].
const POLL: Duration = Duration::from_millis(50);

/// Phone- and laptop-sized windows (CSS pixels).
pub const PHONE: (u32, u32) = (390, 844);
pub const LAPTOP: (u32, u32) = (1366, 900);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn find_binary(candidates: &[&str]) -> Option<String> {
    candidates
        .iter()
        .find(|c| PathBuf::from(c).exists())
        .map(|c| (*c).to_owned())
}

/// A chromedriver of this test, in its own process group.
pub struct Driver {
    child: Child,
    pub url: String,
    profiles: Vec<PathBuf>,
}

impl Driver {
    /// Starts chromedriver and waits (bounded) until it answers.
    pub async fn start() -> Driver {
        use std::os::unix::process::CommandExt;
        let binary = find_binary(&["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"])
            .expect("chromedriver is missing: apt-get install -y chromium chromium-driver (scripts/test does it)");
        let port = free_port();
        let child = Command::new(binary)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("chromedriver starts");
        let url = format!("http://127.0.0.1:{port}");
        let driver = Driver {
            child,
            url,
            profiles: Vec::new(),
        };
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = http
                .get(format!("{}/status", driver.url))
                .send()
                .await
                .ok()
                .filter(|r| r.status().is_success())
                .is_some();
            if ready {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not answer");
            tokio::time::sleep(POLL).await;
        }
        driver
    }

    /// A new headless Chromium with a fresh profile, sized `(w, h)`.
    pub async fn browser(&mut self, size: (u32, u32)) -> Browser {
        let chromium = find_binary(&["/usr/bin/chromium", "/usr/lib/chromium/chromium"])
            .expect("chromium is missing: apt-get install -y chromium");
        let profile =
            std::env::temp_dir().join(format!("etal-chromium-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&profile).expect("profile directory");
        self.profiles.push(profile.clone());
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", "--disable-extensions", "--disable-default-apps",
                    "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                    "--lang=fr-FR", format!("--user-data-dir={}", profile.display()),
                    format!("--window-size={},{}", size.0, size.1),
                ],
            }
        });
        let capabilities = match capabilities {
            Value::Object(map) => map,
            _ => unreachable!("an object"),
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .expect("a Chromium session");
        let browser = Browser { client, size };
        browser.resize(size).await;
        browser
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The whole group: chromedriver and the Chromiums it started.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
        for profile in &self.profiles {
            let _ = std::fs::remove_dir_all(profile);
        }
    }
}

/// One browser window, driven over WebDriver.
pub struct Browser {
    pub client: Client,
    size: (u32, u32),
}

impl Browser {
    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigate");
    }

    /// Resizes the viewport to `(w, h)` CSS pixels (the window's outer
    /// size is adjusted for the browser's frame).
    pub async fn resize(&self, (w, h): (u32, u32)) {
        self.client.set_window_size(w, h).await.expect("resize");
        let inner = self
            .eval("return [window.innerWidth, window.innerHeight];", vec![])
            .await;
        let (iw, ih) = (
            inner[0].as_u64().unwrap_or(0),
            inner[1].as_u64().unwrap_or(0),
        );
        if iw > 0 && (iw != u64::from(w) || ih != u64::from(h)) {
            let fw = w + (w as u64).saturating_sub(iw) as u32;
            let fh = h + (h as u64).saturating_sub(ih) as u32;
            self.client.set_window_size(fw, fh).await.expect("resize");
        }
    }

    /// Runs a script in the page and returns its value.
    pub async fn eval(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .expect("script runs")
    }

    /// Clicks the element matched by `css` (a real WebDriver click). The
    /// pages re-render on live events, so an element found a moment ago may
    /// have been replaced: a stale one is looked up again (a few times).
    pub async fn click(&self, css: &str) {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let element = self
                .client
                .find(Locator::Css(css))
                .await
                .unwrap_or_else(|e| panic!("no element {css}: {e}"));
            match element.click().await {
                Ok(()) => return,
                Err(e) if attempts < 5 && e.to_string().contains("stale element") => continue,
                Err(e) => panic!("click on {css}: {e}"),
            }
        }
    }

    /// Types into the field matched by `css`.
    pub async fn type_into(&self, css: &str, text: &str) {
        let field = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no field {css}: {e}"));
        field.clear().await.expect("clear field");
        field.send_keys(text).await.expect("type");
    }

    /// Chooses `file` in the file field matched by `css`, as the file
    /// chooser would.
    pub async fn choose_file(&self, css: &str, file: &std::path::Path) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no file field {css}: {e}"))
            .send_keys(&file.display().to_string())
            .await
            .unwrap_or_else(|e| panic!("choose {} in {css}: {e}", file.display()));
    }

    /// Polls `script` every 50 ms until `ready(value)` or `within` passes;
    /// returns the value and how long it took. Panics with the last value
    /// (and `what`) when the condition never held.
    pub async fn wait_for(
        &self,
        what: &str,
        within: Duration,
        script: &str,
        args: Vec<Value>,
        ready: impl Fn(&Value) -> bool,
    ) -> (Value, Duration) {
        let start = Instant::now();
        loop {
            let value = self.eval(script, args.clone()).await;
            if ready(&value) {
                return (value, start.elapsed());
            }
            if start.elapsed() > within {
                panic!("{what}: not seen within {within:?}; last state: {value}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until the page has rendered its first data.
    pub async fn wait_ready(&self) {
        self.wait_for(
            "page ready",
            Duration::from_secs(15),
            "return document.body.dataset.ready === 'true';",
            vec![],
            |v| v == &json!(true),
        )
        .await;
    }

    /// Saves a full-page screenshot `target/screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        self.screenshot_at(name, self.size).await;
    }

    /// The same at another viewport width (then back to this window's size).
    pub async fn screenshot_at(&self, name: &str, size: (u32, u32)) {
        self.resize(size).await;
        let height = self
            .eval(
                "return Math.max(document.documentElement.scrollHeight, window.innerHeight);",
                vec![],
            )
            .await
            .as_u64()
            .unwrap_or(u64::from(size.1))
            .min(6000) as u32;
        self.resize((size.0, height.max(size.1))).await;
        // Let layout settle after the resize before the capture.
        self.eval("return new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))));", vec![])
            .await;
        let png = self.client.screenshot().await.expect("screenshot");
        self.resize(self.size).await;
        let dir = screenshots_dir();
        std::fs::create_dir_all(&dir).expect("screenshots directory");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
    }

    /// Puts a session in the page's storage (as the sign-in form does).
    pub async fn sign_in_as(&self, token: &str, account_id: Uuid, name: &str) {
        self.eval(
            "localStorage.setItem('etal.session', JSON.stringify({token: arguments[0], account_id: arguments[1], name: arguments[2]})); return true;",
            vec![json!(token), json!(account_id), json!(name)],
        )
        .await;
    }

    /// Presses Enter on the focused element (keyboard use).
    pub async fn active_key_enter(&self) {
        self.client
            .active_element()
            .await
            .expect("a focused element")
            .send_keys("\u{E007}")
            .await
            .expect("Enter");
    }

    /// The path (and query) of the page shown.
    pub async fn path(&self) -> String {
        let value = self
            .eval("return location.pathname + location.search;", vec![])
            .await;
        value.as_str().unwrap_or_default().to_owned()
    }

    /// Waits (bounded) until a page whose path satisfies `wanted` has loaded.
    pub async fn wait_path(&self, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        let (value, _) = self
            .wait_for(
                what,
                Duration::from_secs(15),
                "return document.readyState === 'complete' ? location.pathname + location.search : null;",
                vec![],
                |v| v.as_str().is_some_and(&wanted),
            )
            .await;
        value.as_str().unwrap_or_default().to_owned()
    }

    /// The text of the first element matched by `css` (`None` when absent).
    pub async fn text(&self, css: &str) -> Option<String> {
        let value = self
            .eval(
                "const e = document.querySelector(arguments[0]); return e ? e.textContent.trim() : null;",
                vec![json!(css)],
            )
            .await;
        value.as_str().map(str::to_owned)
    }

    /// Fills the fields of a form (`name` → text) and submits it with
    /// Enter in its last field, as a keyboard user would; waits for the
    /// next page.
    pub async fn fill_and_submit(&self, fields: &[(&str, &str)]) {
        let before = self.eval("return performance.timeOrigin;", vec![]).await;
        for (name, text) in fields {
            self.type_into(&format!("[name='{name}']"), text).await;
        }
        self.active_key_enter().await;
        self.wait_for(
            "the next page",
            Duration::from_secs(15),
            "return document.readyState === 'complete' ? performance.timeOrigin : null;",
            vec![],
            |v| !v.is_null() && *v != before,
        )
        .await;
    }

    /// Signs in through `/connexion` of the app at `base` (the real form).
    pub async fn sign_in_page(&self, base: &str, email: &str, password: &str) -> String {
        self.goto(&format!("{base}/connexion")).await;
        self.fill_and_submit(&[("email", email), ("password", password)])
            .await;
        self.path().await
    }

    /// Signs Paul Martin up through `/inscription` of the app at `base`
    /// with his farm, the "Ferme du Grand Champ" of the guide; returns the
    /// path of the page it leads to (his producer's space).
    pub async fn sign_up_grand_champ(&self, base: &str) -> String {
        self.goto(&format!("{base}/inscription")).await;
        self.fill_and_submit(&[
            ("name", "Paul Martin"),
            ("email", "paul@grand-champ.example"),
            ("password", "un mot de passe"),
            ("producer_name", "Ferme du Grand Champ"),
        ])
        .await;
        self.path().await
    }

    /// Adds the guide's two offers of potatoes on the product page shown:
    /// "Vrac" 1 kg at 2,50 € and "Sac" 10 kg at 20 € (prices incl. VAT).
    pub async fn add_potato_offers(&self) {
        for (label, quantity, price) in [("Vrac", "1", "2,50"), ("Sac", "10", "20")] {
            self.fill_and_submit(&[
                ("label", label),
                ("quantity", quantity),
                ("unit", "kg"),
                ("price", price),
            ])
            .await;
        }
    }

    /// Screenshots of the page shown, phone- and laptop-sized
    /// (`<name>-phone.png`, `<name>-laptop.png`).
    pub async fn shots(&self, name: &str) {
        self.screenshot_at(&format!("{name}-phone"), PHONE).await;
        self.screenshot_at(&format!("{name}-laptop"), LAPTOP).await;
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}

/// `target/screenshots` (beside `target/tmp`, wherever the target dir is).
pub fn screenshots_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map(|p| p.join("screenshots"))
        .unwrap_or_else(|| PathBuf::from("target/screenshots"))
}
