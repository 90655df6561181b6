//! What the demo prints once the engine listens: the two distributions, the
//! logins (every demo account shares the public demo password) and the
//! URLs and `curl` commands to try, with real ids. It is printed to stdout
//! by the CLI and never goes through `tracing`, so no log ever carries a
//! password.

use std::collections::HashMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::build::{DemoAccount, Setup};
use super::data;
use super::sales::{DemoDistribution, Sales};

/// The seeded demo: what it holds and how to try it.
#[derive(Debug, Clone)]
pub struct Demo {
    pub setup: Setup,
    pub sales: Sales,
    /// Order number of each customer (by account id) in the open sale.
    pub order_numbers: HashMap<Uuid, i32>,
}

/// The products ordered in the example `curl` session.
const EXAMPLE_ORDER: [(&str, &str); 2] = [
    ("Pommes de terre", "Sac"),
    ("Poulet fermier", "Poulet entier (env. 1,8 kg)"),
];

impl Demo {
    /// The distribution whose sale is open now.
    pub fn open_distribution(&self) -> Uuid {
        self.sales.open.record.id
    }

    /// The distribution whose sale opens later.
    pub fn upcoming_distribution(&self) -> Uuid {
        self.sales.upcoming.record.id
    }

    /// The offer `label` of product `product`, if the demo has it.
    pub fn offer(&self, product: &str, label: &str) -> Option<Uuid> {
        self.setup.offer(product, label)
    }

    /// The customer the example session logs in as: the first without an
    /// order in the open sale (else the last customer).
    pub fn example_customer(&self) -> Option<&DemoAccount> {
        self.setup
            .customers
            .iter()
            .find(|c| !self.order_numbers.contains_key(&c.id))
            .or(self.setup.customers.last())
    }

    /// The text printed after start-up; `base` is e.g. `http://127.0.0.1:8080`.
    pub fn render(&self, base: &str) -> String {
        let mut out = String::new();
        let _ = self.write(&mut out, base);
        out
    }

    fn write(&self, out: &mut String, base: &str) -> std::fmt::Result {
        let rule = "─".repeat(72);
        writeln!(out, "{rule}")?;
        writeln!(
            out,
            "etal demo — two Lyon markets, four producers, a sale open now"
        )?;
        writeln!(out, "{rule}")?;
        self.write_distribution(out, "Open sale", &self.sales.open)?;
        self.write_distribution(out, "Upcoming", &self.sales.upcoming)?;
        writeln!(out)?;
        writeln!(
            out,
            "Logins — every demo account's password is \"{}\"",
            data::PASSWORD
        )?;
        let admin = &self.setup.admin;
        line(out, "market admin (both markets)", admin, "")?;
        line(
            out,
            "platform admin",
            &self.setup.platform_admin,
            "legal info, /plateforme",
        )?;
        for producer in &self.setup.producers {
            line(
                out,
                &format!("producer: {}", producer.name),
                &producer.owner,
                "owner",
            )?;
            if let Some(collaborator) = &producer.collaborator {
                line(out, "", collaborator, "collaborator")?;
            }
        }
        for customer in &self.setup.customers {
            let note = match self.order_numbers.get(&customer.id) {
                Some(number) => format!("order n°{number} in the open sale"),
                None => "no order yet".to_owned(),
            };
            line(out, "customer", customer, &note)?;
        }
        writeln!(out)?;
        self.write_tries(out, base)?;
        writeln!(out, "{rule}")
    }

    fn write_distribution(
        &self,
        out: &mut String,
        title: &str,
        distribution: &DemoDistribution,
    ) -> std::fmt::Result {
        let d = &distribution.record;
        let market = self
            .setup
            .markets
            .get(distribution.market)
            .map_or("?", |m| m.name.as_str());
        let when = |t: DateTime<Utc>| t.with_timezone(&chrono_tz::Europe::Paris);
        let day = |t: DateTime<Utc>| when(t).format("%a %d %b %Y %H:%M").to_string();
        let hour = |t: DateTime<Utc>| when(t).format("%H:%M").to_string();
        writeln!(
            out,
            "{title:<10} {market}, market day {}–{} (Paris time)",
            day(d.starts_at),
            hour(d.ends_at)
        )?;
        writeln!(
            out,
            "{:<10} orders {} → {}",
            "",
            day(d.orders_open_at),
            day(d.orders_close_at)
        )?;
        writeln!(out, "{:<10} distribution {}", "", d.id)
    }

    fn write_tries(&self, out: &mut String, base: &str) -> std::fmt::Result {
        let open = self.open_distribution();
        let ws = base
            .strip_prefix("http")
            .map_or_else(|| base.to_owned(), |rest| format!("ws{rest}"));
        writeln!(out, "Open in a browser")?;
        writeln!(out, "  the markets:        {base}/")?;
        writeln!(out, "  sign in:            {base}/connexion")?;
        writeln!(out, "  the shop:           {base}/shop/{open}")?;
        if let Some(producer) = self.setup.producers.first() {
            writeln!(
                out,
                "  a producer's board: {base}/board/{} (sign in as {})",
                producer.id, producer.owner.email
            )?;
            writeln!(out, "  its page vitrine:   {base}/vitrine/{}", producer.id)?;
        }
        writeln!(out)?;
        writeln!(out, "Try")?;
        writeln!(out, "  curl -s {base}/health")?;
        writeln!(out, "  curl -s {base}/ready")?;
        writeln!(out, "  curl -s {base}/api/v1/distributions/{open}/shop")?;
        writeln!(out, "  curl -s {base}/api/v1/openapi.json")?;
        writeln!(
            out,
            "  live availability (WebSocket): {ws}/ws/distributions/{open}"
        )?;
        let Some(customer) = self.example_customer() else {
            return Ok(());
        };
        let lines: Vec<String> = EXAMPLE_ORDER
            .iter()
            .filter_map(|(product, label)| self.offer(product, label))
            .map(|id| format!("{{\"offer_id\":\"{id}\",\"quantity\":1}}"))
            .collect();
        writeln!(out)?;
        match self.order_numbers.get(&customer.id) {
            // Every demo customer has ordered (earlier runs): ordering again
            // adds to their order, and the banner says so.
            Some(number) => writeln!(
                out,
                "  # log in as {} and add a 10 kg bag of potatoes and a farm chicken to their order n°{number}",
                customer.name
            )?,
            None => writeln!(
                out,
                "  # log in as {} (no order yet) and order a 10 kg bag of potatoes and a farm chicken",
                customer.name
            )?,
        }
        writeln!(out, "  TOKEN=$(curl -s -X POST {base}/api/v1/sessions \\")?;
        writeln!(out, "      -H 'content-type: application/json' \\")?;
        writeln!(
            out,
            "      -d '{{\"email\":\"{}\",\"password\":\"{}\"}}' \\",
            customer.email,
            data::PASSWORD
        )?;
        writeln!(out, "    | sed -E 's/.*\"token\":\"([^\"]+)\".*/\\1/')")?;
        writeln!(
            out,
            "  curl -s -X POST {base}/api/v1/distributions/{open}/orders \\"
        )?;
        writeln!(
            out,
            "      -H \"authorization: Bearer $TOKEN\" -H 'content-type: application/json' \\"
        )?;
        writeln!(out, "      -d '{{\"lines\":[{}]}}'", lines.join(","))
    }
}

fn line(out: &mut String, role: &str, account: &DemoAccount, note: &str) -> std::fmt::Result {
    let note = if note.is_empty() {
        String::new()
    } else {
        format!(" ({note})")
    };
    writeln!(
        out,
        "  {role:<36} {:<24} {}{note}",
        account.email, account.name
    )
}
