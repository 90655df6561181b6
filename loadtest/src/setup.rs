//! Setting a scenario up through etal's public API, as producers and a
//! market admin would: accounts (sign-up costs an argon2 hash, so they are
//! created concurrently, once, and reused), producers, a VAT rate,
//! products and their offers with limited stock, one catalog per producer,
//! a market linking the catalogs by code, a distribution whose sale opens a
//! few seconds later, and the participations.

use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use chrono::{DateTime, Utc};
use futures_util::{stream, StreamExt, TryStreamExt};
use reqwest::{Client, Method};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::scenario::Layout;

/// A JSON client for the set-up calls.
#[derive(Clone)]
pub struct Api {
    pub client: Client,
    pub base: String,
}

/// A signed-up, logged-in account.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: Uuid,
    pub token: String,
}

/// Accounts reused from run to run: customers, producers' owners and a
/// market admin.
pub struct Accounts {
    pub customers: Vec<Account>,
    pub owners: Vec<Account>,
    pub admin: Account,
}

/// A scenario as deployed.
#[derive(Debug, Clone)]
pub struct Deployed {
    pub distribution_id: Uuid,
    pub opens_at: DateTime<Utc>,
    /// In layout order.
    pub offer_ids: Vec<Uuid>,
}

fn id_of(v: &Value) -> anyhow::Result<Uuid> {
    v["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow!("answer without an id: {v}"))
}

impl Api {
    pub fn new(client: Client, base: &str) -> Self {
        Self {
            client,
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    /// Sends a call and insists on `status`.
    pub async fn expect(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        token: Option<&str>,
        status: u16,
    ) -> anyhow::Result<Value> {
        self.call(method, path, body, token, &[status]).await
    }

    /// Sends a call without a body, as `token`, and insists on one of
    /// `statuses`.
    pub async fn expect_any(
        &self,
        method: Method,
        path: &str,
        token: &str,
        statuses: &[u16],
    ) -> anyhow::Result<Value> {
        self.call(method, path, None, Some(token), statuses).await
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        token: Option<&str>,
        statuses: &[u16],
    ) -> anyhow::Result<Value> {
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(body);
        }
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("{method} {path}"))?;
        let got = response.status().as_u16();
        let bytes = response.bytes().await.unwrap_or_default();
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if !statuses.contains(&got) {
            bail!(
                "{method} {path}: expected {statuses:?}, got {got}: {}",
                String::from_utf8_lossy(&bytes)
            );
        }
        Ok(value)
    }

    pub async fn post(&self, path: &str, body: &Value, token: &str) -> anyhow::Result<Value> {
        self.expect(Method::POST, path, Some(body), Some(token), 201)
            .await
    }

    /// Signs up and logs in one account.
    pub async fn account(&self, email: &str, name: &str) -> anyhow::Result<Account> {
        let password = format!("lt-{}", Uuid::new_v4().simple());
        let created = self
            .expect(
                Method::POST,
                "/api/v1/accounts",
                Some(&json!({"email": email, "password": password, "name": name})),
                None,
                201,
            )
            .await?;
        let session = self
            .expect(
                Method::POST,
                "/api/v1/sessions",
                Some(&json!({"email": email, "password": password})),
                None,
                201,
            )
            .await?;
        Ok(Account {
            id: id_of(&created)?,
            token: session["token"]
                .as_str()
                .ok_or_else(|| anyhow!("session without token"))?
                .to_owned(),
        })
    }

    /// Signs up `n` accounts, `parallel` at a time.
    pub async fn accounts(
        &self,
        role: &str,
        n: usize,
        parallel: usize,
    ) -> anyhow::Result<Vec<Account>> {
        let run = Uuid::new_v4().simple().to_string();
        let run = &run[..8];
        stream::iter(0..n)
            .map(|i| {
                let email = format!("lt-{role}-{i}-{run}@example.org");
                let name = format!("{role} {i}");
                async move { self.account(&email, &name).await }
            })
            .buffered(parallel.max(1))
            .try_collect()
            .await
    }
}

impl Accounts {
    /// Creates (or tops up to) `customers` customers and `owners` owners.
    pub async fn ensure(
        api: &Api,
        current: Option<Accounts>,
        customers: usize,
        owners: usize,
    ) -> anyhow::Result<Accounts> {
        let mut accounts = match current {
            Some(a) => a,
            None => Accounts {
                customers: Vec::new(),
                owners: Vec::new(),
                admin: api.accounts("admin", 1, 1).await?.remove(0),
            },
        };
        if accounts.customers.len() < customers {
            let missing = customers - accounts.customers.len();
            eprintln!("loadtest: signing up {missing} customers (argon2 per sign-up; done once)…");
            accounts
                .customers
                .extend(api.accounts("customer", missing, 16).await?);
        }
        if accounts.owners.len() < owners {
            let missing = owners - accounts.owners.len();
            accounts
                .owners
                .extend(api.accounts("producer", missing, 8).await?);
        }
        Ok(accounts)
    }
}

/// Deploys `layout` and plans a distribution whose sale opens `open_in`
/// from now.
pub async fn deploy(
    api: &Api,
    accounts: &Accounts,
    layout: &Layout,
    open_in: Duration,
) -> anyhow::Result<Deployed> {
    let mut offer_ids = vec![Uuid::nil(); layout.offers.len()];
    let mut catalogs = Vec::new();
    for p in 0..layout.producers {
        let owner = accounts
            .owners
            .get(p)
            .ok_or_else(|| anyhow!("no owner account for producer {p}"))?;
        let (ids, catalog) = producer(api, owner, p, layout).await?;
        for (index, id) in ids {
            offer_ids[index] = id;
        }
        catalogs.push(catalog);
    }
    let admin = &accounts.admin.token;
    let market = api
        .post(
            "/api/v1/markets",
            &json!({"name": "Marché du load test",
                    "place": {"address": "Place du marché, Lyon", "lat": 45.76, "lng": 4.83},
                    "online_payment": true}),
            admin,
        )
        .await?;
    let market_id = id_of(&market)?;
    for (_, code) in &catalogs {
        api.post(
            &format!("/api/v1/markets/{market_id}/catalogs"),
            &json!({"code": code}),
            admin,
        )
        .await?;
    }
    let opens_at = Utc::now() + chrono::Duration::from_std(open_in)?;
    let closes_at = opens_at + chrono::Duration::hours(6);
    let starts_at = closes_at + chrono::Duration::hours(1);
    let distribution = api
        .post(
            &format!("/api/v1/markets/{market_id}/distributions"),
            &json!({"starts_at": starts_at, "ends_at": starts_at + chrono::Duration::hours(2),
                    "orders_open_at": opens_at, "orders_close_at": closes_at}),
            admin,
        )
        .await?;
    let distribution_id = id_of(&distribution)?;
    for (p, (catalog_id, _)) in catalogs.iter().enumerate() {
        api.post(
            &format!("/api/v1/distributions/{distribution_id}/participations"),
            &json!({"catalog_id": catalog_id}),
            &accounts.owners[p].token,
        )
        .await?;
    }
    Ok(Deployed {
        distribution_id,
        opens_at,
        offer_ids,
    })
}

/// One producer with its offers and catalog: (offer index, id) pairs and
/// (catalog id, code).
async fn producer(
    api: &Api,
    owner: &Account,
    p: usize,
    layout: &Layout,
) -> anyhow::Result<(Vec<(usize, Uuid)>, (Uuid, Value))> {
    let token = owner.token.as_str();
    let producer_id = id_of(
        &api.post(
            "/api/v1/producers",
            &json!({"name": format!("Ferme {p} ({})", &Uuid::new_v4().simple().to_string()[..6])}),
            token,
        )
        .await?,
    )?;
    let vat_id = id_of(
        &api.post(
            &format!("/api/v1/producers/{producer_id}/vat-rates"),
            &json!({"name": "Taux réduit", "rate": "5.5"}),
            token,
        )
        .await?,
    )?;
    let offers: Vec<(usize, Uuid)> = stream::iter(layout.of_producer(p).cloned())
        .map(|plan| async move {
            let product = api
                .post(
                    &format!("/api/v1/producers/{producer_id}/products"),
                    &json!({"name": format!("Produit {}", plan.index), "unit": "piece",
                            "category": "Légumes", "organic": false, "variable_price": false,
                            "multi_weight": false, "active": true}),
                    token,
                )
                .await?;
            let mut body = json!({"label": "Pièce", "quantity": "1", "unit": "piece",
                                  "price": plan.price(), "vat_rate_id": vat_id});
            if let Some(stock) = plan.stock {
                body["stock"] = json!({"real": stock.to_string()});
            }
            let offer = api
                .post(
                    &format!("/api/v1/products/{}/offers", id_of(&product)?),
                    &body,
                    token,
                )
                .await?;
            Ok::<_, anyhow::Error>((plan.index, id_of(&offer)?))
        })
        .buffered(8)
        .try_collect()
        .await?;
    let entries: Vec<Value> = offers
        .iter()
        .map(|(_, id)| json!({"offer_id": id}))
        .collect();
    let catalog = api
        .post(
            &format!("/api/v1/producers/{producer_id}/catalogs"),
            &json!({"name": format!("Catalogue {p}"), "entries": entries}),
            token,
        )
        .await?;
    let code = catalog["code"].clone();
    Ok((offers, (id_of(&catalog)?, code)))
}
