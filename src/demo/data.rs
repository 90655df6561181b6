//! What the demo contains, as plain data: the people, four producers of the
//! Lyon area with about thirty products sold the guide's way (the potatoes
//! "Vrac" 2.50 € for 1 kg and "Sac" 20 € for 10 kg, a lamb leg priced by
//! weight, a farm chicken weighed piece by piece), two markets, and the
//! orders two customers already placed. Decimals are text so this file
//! reads like the producer's own product sheet; `build` parses every value
//! with the domain's parsers, so a typo here fails like bad input would.

mod producers;

pub use producers::PRODUCERS;

/// Every demo account has this password (a demo's passwords are public).
pub const PASSWORD: &str = "etal-demo";

/// A person with an account.
pub struct Person {
    pub email: &'static str,
    pub name: &'static str,
}

/// The market admin ("référente"), who administers both markets. Her email
/// is the demo's marker: when it exists, the demo has been seeded before.
pub const ADMIN: Person = Person {
    email: "claire@etal.example",
    name: "Claire Dubois",
};

/// The platform admin: changes producers' legal information.
pub const PLATFORM_ADMIN: Person = Person {
    email: "equipe@etal.example",
    name: "Équipe étal",
};

/// Customers; the first two get an order in each fresh open sale.
pub const CUSTOMERS: [Person; 4] = [
    Person {
        email: "lea@etal.example",
        name: "Léa Fontaine",
    },
    Person {
        email: "hugo@etal.example",
        name: "Hugo Marchand",
    },
    Person {
        email: "camille@etal.example",
        name: "Camille Roux",
    },
    Person {
        email: "nicolas@etal.example",
        name: "Nicolas Faure",
    },
];

/// Which VAT rate an offer uses (every demo producer has both).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum Vat {
    /// 5.5 %: food.
    Reduced,
    /// 20 %: drinks with alcohol, non-food.
    Normal,
}

/// The demo producers' VAT rates: name and percent.
pub const VAT_RATES: [(Vat, &str, &str); 2] = [
    (Vat::Reduced, "Taux réduit", "5.5"),
    (Vat::Normal, "Taux normal", "20"),
];

/// One way a product is sold.
pub struct Offer {
    pub label: &'static str,
    pub quantity: &'static str,
    pub unit: &'static str,
    /// Price incl. VAT, euros.
    pub price: &'static str,
    pub vat: Vat,
    /// Limited stock (`None` = unlimited).
    pub stock: Option<&'static str>,
}

/// How a product is weighed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Weighing {
    /// Fixed price.
    Fixed,
    /// "Prix variable selon pesée", sold in whole pieces.
    Variable,
    /// "Multi-pesée": every piece is weighed, one order line each.
    MultiWeight,
}

pub struct Product {
    pub name: &'static str,
    pub category: &'static str,
    pub unit: &'static str,
    pub organic: bool,
    pub weighing: Weighing,
    pub description: &'static str,
    pub offers: &'static [Offer],
}

/// How a producer's offers are put in catalogs.
pub enum Catalogs {
    /// One catalog linked to both markets.
    Shared(&'static str),
    /// One catalog per market (Croix-Rousse, Villeurbanne); the second
    /// overrides the price of the offer labelled `.0` with `.1`.
    PerMarket([&'static str; 2], (&'static str, &'static str)),
}

pub struct Producer {
    pub name: &'static str,
    pub description: &'static str,
    pub owner: Person,
    pub collaborator: Option<Person>,
    pub products: &'static [Product],
    pub catalogs: Catalogs,
}

/// A market, admin'd by [`ADMIN`].
pub struct Market {
    pub name: &'static str,
    pub address: &'static str,
    pub lat: f64,
    pub lng: f64,
    /// ISO weekday of the usual distribution (Monday = 1).
    pub weekday: i16,
    pub online_payment: bool,
}

/// Croix-Rousse (Thursdays, online payment) hosts the open sale;
/// Villeurbanne (Saturdays, paid on the spot) the upcoming one.
pub const MARKETS: [Market; 2] = [
    Market {
        name: "Marché de la Croix-Rousse",
        address: "Boulevard de la Croix-Rousse, 69004 Lyon",
        lat: 45.7745,
        lng: 4.8318,
        weekday: 4,
        online_payment: true,
    },
    Market {
        name: "Marché de Villeurbanne Gratte-Ciel",
        address: "Place Lazare-Goujon, 69100 Villeurbanne",
        lat: 45.7665,
        lng: 4.8797,
        weekday: 6,
        online_payment: false,
    },
];

/// A line of a demo order: product name, offer label, quantity.
pub type OrderLine = (&'static str, &'static str, &'static str);

/// Orders placed in each fresh open sale: customer index and lines.
pub const ORDERS: [(usize, &[OrderLine]); 2] = [
    (
        0,
        &[
            ("Pommes de terre", "Sac", "1"),
            ("Poulet fermier", "Poulet entier (env. 1,8 kg)", "2"),
            ("Saint-Marcellin", "Pièce", "2"),
            ("Pain de campagne au levain", "Miche", "1"),
        ],
    ),
    (
        1,
        &[
            ("Panier de légumes de saison", "Petit panier", "1"),
            ("Œufs plein air", "Boîte de 12", "1"),
            ("Gigot d'agneau", "Gigot (env. 1,2 kg)", "1"),
            ("Baguette tradition", "Pièce", "2"),
            ("Miel de printemps", "Pot de 500 g", "1"),
        ],
    ),
];
