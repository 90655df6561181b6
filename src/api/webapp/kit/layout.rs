//! What surrounds every page (`templates/base.html`): the title, the main
//! menu (the directory of markets for everyone; for a signed-in account
//! its producer space, its markets when it administers some, its orders,
//! sign-out), the producer space's own menu — the guide's Tableau de bord,
//! Produits, Catalogues, Commandes, Paramètres, Utilisateurs — and the
//! one-time message left by the previous answer.

use uuid::Uuid;

use super::session::{InMarket, InProducer, Visitor};

/// One entry of a menu.
#[derive(Debug, Clone)]
pub struct NavLink {
    pub label: String,
    pub href: String,
    /// The entry of the page shown (`aria-current="page"`).
    pub current: bool,
}

/// A space's own menu: a producer's or a market's.
#[derive(Debug, Clone)]
pub struct Space {
    /// "Espace producteur" or "Marché".
    pub kind: &'static str,
    pub name: String,
    pub tabs: Vec<NavLink>,
}

/// Everything `base.html` needs.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub title: String,
    /// The CSRF token of this page's forms (sign-out included).
    pub csrf: String,
    /// The signed-in person's name.
    pub user: Option<String>,
    pub flash: Option<String>,
    pub menu: Vec<NavLink>,
    pub space: Option<Space>,
}

/// The main menu's sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Directory,
    Producer,
    Markets,
    Orders,
    Messages,
    Account,
    None,
}

/// The producer space's tabs, in the guide's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProducerTab {
    Dashboard,
    Products,
    Catalogs,
    Orders,
    Settings,
    Users,
}

impl ProducerTab {
    pub const ALL: [ProducerTab; 6] = [
        ProducerTab::Dashboard,
        ProducerTab::Products,
        ProducerTab::Catalogs,
        ProducerTab::Orders,
        ProducerTab::Settings,
        ProducerTab::Users,
    ];

    pub fn label(self) -> &'static str {
        match self {
            ProducerTab::Dashboard => "Tableau de bord",
            ProducerTab::Products => "Produits",
            ProducerTab::Catalogs => "Catalogues",
            ProducerTab::Orders => "Commandes",
            ProducerTab::Settings => "Paramètres",
            ProducerTab::Users => "Utilisateurs",
        }
    }

    /// The tab's path in producer `id`'s space.
    pub fn href(self, id: Uuid) -> String {
        let base = format!("/espace-producteur/{id}");
        match self {
            ProducerTab::Dashboard => base,
            ProducerTab::Products => format!("{base}/produits"),
            ProducerTab::Catalogs => format!("{base}/catalogues"),
            ProducerTab::Orders => format!("{base}/commandes"),
            ProducerTab::Settings => format!("{base}/parametres"),
            ProducerTab::Users => format!("{base}/utilisateurs"),
        }
    }
}

fn link(label: &str, href: impl Into<String>, current: bool) -> NavLink {
    NavLink {
        label: label.to_owned(),
        href: href.into(),
        current,
    }
}

impl Visitor {
    /// The chrome of a page of the main menu's `section`.
    pub fn chrome(&self, title: impl Into<String>, section: Section) -> Chrome {
        let mut menu = vec![link("Marchés", "/", section == Section::Directory)];
        if let Some(caller) = &self.account {
            let producer_label = if caller.producers.is_empty() {
                "Devenir producteur"
            } else {
                "Espace producteur"
            };
            menu.push(link(
                producer_label,
                "/espace-producteur",
                section == Section::Producer,
            ));
            if !caller.markets.is_empty() {
                menu.push(link(
                    "Mes marchés",
                    "/mes-marches",
                    section == Section::Markets,
                ));
            }
            menu.push(link(
                "Mes commandes",
                "/mes-commandes",
                section == Section::Orders,
            ));
            menu.push(link("Messages", "/messages", section == Section::Messages));
        } else {
            menu.push(link(
                "Se connecter",
                "/connexion",
                section == Section::Account,
            ));
            menu.push(link("Créer un compte", "/inscription", false));
        }
        Chrome {
            title: title.into(),
            csrf: self.csrf.clone(),
            user: self.account.as_ref().map(|c| c.name.clone()),
            flash: self.flash.clone(),
            menu,
            space: None,
        }
    }
}

impl InProducer {
    /// The chrome of a page of this producer's space, on `tab`.
    pub fn chrome(&self, title: impl Into<String>, tab: ProducerTab) -> Chrome {
        let mut chrome = self.visitor.chrome(title, Section::Producer);
        chrome.space = Some(Space {
            kind: "Espace producteur",
            name: self.producer.name.clone(),
            tabs: ProducerTab::ALL
                .iter()
                .map(|t| link(t.label(), t.href(self.producer.id), *t == tab))
                .collect(),
        });
        chrome
    }
}

impl InMarket {
    /// The chrome of a page of this market's administration; `tabs` are
    /// the market pages' own entries (label, path, current).
    pub fn chrome(&self, title: impl Into<String>, tabs: &[(&str, String, bool)]) -> Chrome {
        let mut chrome = self.visitor.chrome(title, Section::Markets);
        chrome.space = Some(Space {
            kind: "Marché",
            name: self.market.name.clone(),
            tabs: tabs
                .iter()
                .map(|(label, href, current)| link(label, href.clone(), *current))
                .collect(),
        });
        chrome
    }
}
