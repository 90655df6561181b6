//! The four demo producers and what they sell, sheet by sheet: a market
//! gardener (the guide's potatoes, a catalog per market), a goat dairy, a
//! bakery, and a farm with eggs, a chicken weighed piece by piece, lamb
//! priced by weight, honey and mead (20 % VAT).

use super::{Catalogs, Offer, Person, Producer, Product, Vat, Weighing};

const fn offer(
    label: &'static str,
    quantity: &'static str,
    unit: &'static str,
    price: &'static str,
    stock: Option<&'static str>,
) -> Offer {
    Offer {
        label,
        quantity,
        unit,
        price,
        vat: Vat::Reduced,
        stock,
    }
}

const fn product(
    name: &'static str,
    category: &'static str,
    unit: &'static str,
    description: &'static str,
    offers: &'static [Offer],
) -> Product {
    Product {
        name,
        category,
        unit,
        organic: true,
        weighing: Weighing::Fixed,
        description,
        offers,
    }
}

const LEGUMES: &str = "Légumes";

pub const PRODUCERS: [Producer; 4] = [
    Producer {
        name: "Ferme du Grand Champ",
        description:
            "Maraîchage biologique à Sathonay-Village : légumes de saison cueillis la veille.",
        owner: Person {
            email: "paul@etal.example",
            name: "Paul Girard",
        },
        collaborator: Some(Person {
            email: "ines@etal.example",
            name: "Inès Moreau",
        }),
        catalogs: Catalogs::PerMarket(
            ["Légumes — Croix-Rousse", "Légumes — Villeurbanne"],
            ("Petit panier", "11.50"),
        ),
        products: &[
            product(
                "Pommes de terre",
                LEGUMES,
                "kg",
                "Variété Charlotte, chair ferme.",
                &[
                    offer("Vrac", "1", "kg", "2.50", None),
                    offer("Sac", "10", "kg", "20.00", Some("8")),
                ],
            ),
            product(
                "Carottes",
                LEGUMES,
                "kg",
                "Carottes nantaises.",
                &[offer("Vrac", "1", "kg", "2.80", None)],
            ),
            product(
                "Poireaux",
                LEGUMES,
                "botte",
                "Botte de trois poireaux.",
                &[offer("Botte", "1", "botte", "3.20", None)],
            ),
            product(
                "Courge butternut",
                LEGUMES,
                "pièce",
                "Environ 1,2 kg pièce.",
                &[offer("Pièce", "1", "pièce", "3.50", Some("25"))],
            ),
            product(
                "Potimarron",
                LEGUMES,
                "pièce",
                "Environ 1 kg pièce.",
                &[offer("Pièce", "1", "pièce", "3.80", Some("20"))],
            ),
            product(
                "Chou kale",
                LEGUMES,
                "g",
                "Feuilles tendres, à cuire ou en salade.",
                &[offer("Sachet", "300", "g", "2.90", None)],
            ),
            product(
                "Mâche",
                LEGUMES,
                "g",
                "Lavée, prête à manger.",
                &[offer("Sachet", "150", "g", "2.40", Some("30"))],
            ),
            product(
                "Betteraves crues",
                LEGUMES,
                "kg",
                "",
                &[offer("Vrac", "1", "kg", "2.60", None)],
            ),
            product(
                "Oignons jaunes",
                LEGUMES,
                "kg",
                "",
                &[
                    offer("Vrac", "1", "kg", "2.90", None),
                    offer("Filet", "5", "kg", "12.00", Some("10")),
                ],
            ),
            product(
                "Panier de légumes de saison",
                LEGUMES,
                "panier",
                "Composé chaque semaine selon la récolte.",
                &[
                    offer("Petit panier", "1", "panier", "12.00", Some("15")),
                    offer("Grand panier", "1", "panier", "20.00", Some("10")),
                ],
            ),
            Product {
                name: "Sac cabas en toile",
                category: "Accessoires",
                unit: "pièce",
                organic: false,
                weighing: Weighing::Fixed,
                description: "Toile de coton, pour rapporter vos légumes.",
                offers: &[Offer {
                    label: "Sac",
                    quantity: "1",
                    unit: "pièce",
                    price: "4.00",
                    vat: Vat::Normal,
                    stock: Some("40"),
                }],
            },
        ],
    },
    Producer {
        name: "Chèvrerie des Monts d'Or",
        description: "Fromages de chèvre et produits laitiers fermiers à Saint-Cyr-au-Mont-d'Or.",
        owner: Person {
            email: "sophie@etal.example",
            name: "Sophie Bernard",
        },
        collaborator: Some(Person {
            email: "lucas@etal.example",
            name: "Lucas Petit",
        }),
        catalogs: Catalogs::Shared("Fromages et crèmerie"),
        products: &[
            product(
                "Saint-Marcellin",
                "Crèmerie",
                "pièce",
                "Au lait cru, affiné dix jours.",
                &[offer("Pièce", "1", "pièce", "2.60", Some("40"))],
            ),
            Product {
                name: "Tomme de chèvre",
                category: "Crèmerie",
                unit: "kg",
                organic: true,
                weighing: Weighing::Variable,
                description: "Coupée à la demande ; le prix suit le poids réel (25 €/kg).",
                offers: &[offer(
                    "Morceau (env. 300 g)",
                    "0.3",
                    "kg",
                    "7.50",
                    Some("15"),
                )],
            },
            product(
                "Rigotte de Condrieu",
                "Crèmerie",
                "pièce",
                "",
                &[offer("Pièce", "1", "pièce", "1.90", Some("30"))],
            ),
            product(
                "Fromage blanc fermier",
                "Crèmerie",
                "g",
                "",
                &[offer("Pot", "500", "g", "3.20", None)],
            ),
            product(
                "Yaourts au lait de chèvre",
                "Crèmerie",
                "pièce",
                "Nature.",
                &[offer("Lot de 4", "4", "pièce", "3.60", None)],
            ),
            product(
                "Crème fraîche épaisse",
                "Crèmerie",
                "cl",
                "",
                &[offer("Pot", "25", "cl", "2.90", None)],
            ),
            product(
                "Beurre doux",
                "Crèmerie",
                "g",
                "Baratté à la ferme.",
                &[offer("Plaquette", "250", "g", "3.80", Some("20"))],
            ),
        ],
    },
    Producer {
        name: "Le Fournil de la Saône",
        description:
            "Boulangerie paysanne à Fontaines-sur-Saône : farines bio, levain naturel, four à bois.",
        owner: Person {
            email: "karim@etal.example",
            name: "Karim Haddad",
        },
        collaborator: None,
        catalogs: Catalogs::Shared("Pains et viennoiseries"),
        products: &[
            product(
                "Pain de campagne au levain",
                "Boulangerie",
                "g",
                "",
                &[
                    offer("Miche", "1000", "g", "5.20", Some("25")),
                    offer("Demi-miche", "500", "g", "2.80", Some("30")),
                ],
            ),
            product(
                "Baguette tradition",
                "Boulangerie",
                "pièce",
                "",
                &[offer("Pièce", "1", "pièce", "1.30", Some("60"))],
            ),
            product(
                "Pain aux céréales",
                "Boulangerie",
                "g",
                "",
                &[offer("Pièce", "500", "g", "3.90", Some("20"))],
            ),
            product(
                "Brioche au beurre",
                "Boulangerie",
                "g",
                "",
                &[offer("Pièce", "400", "g", "6.50", Some("10"))],
            ),
            product(
                "Fougasse aux olives",
                "Boulangerie",
                "pièce",
                "",
                &[offer("Pièce", "1", "pièce", "3.90", Some("12"))],
            ),
            product(
                "Pain d'épices au miel",
                "Boulangerie",
                "g",
                "Au miel de la Ferme de la Bâtie.",
                &[offer("Pièce", "300", "g", "5.50", None)],
            ),
        ],
    },
    Producer {
        name: "Ferme de la Bâtie",
        description: "Élevage plein air et rucher à Chasselay : œufs, volailles, agneau et miel.",
        owner: Person {
            email: "elodie@etal.example",
            name: "Élodie Rousset",
        },
        collaborator: None,
        catalogs: Catalogs::Shared("Ferme de la Bâtie"),
        products: &[
            product(
                "Œufs plein air",
                "Œufs",
                "pièce",
                "Poules élevées en plein air.",
                &[
                    offer("Boîte de 6", "6", "pièce", "2.40", Some("40")),
                    offer("Boîte de 12", "12", "pièce", "4.50", Some("20")),
                ],
            ),
            Product {
                name: "Poulet fermier",
                category: "Volailles",
                unit: "kg",
                organic: true,
                weighing: Weighing::MultiWeight,
                description: "Chaque poulet est pesé : le prix suit son poids réel (12 €/kg).",
                offers: &[
                    offer(
                        "Poulet entier (env. 1,8 kg)",
                        "1.8",
                        "kg",
                        "21.60",
                        Some("12"),
                    ),
                    offer("Gros poulet (env. 2,5 kg)", "2.5", "kg", "30.00", Some("6")),
                ],
            },
            Product {
                name: "Gigot d'agneau",
                category: "Viandes",
                unit: "kg",
                organic: true,
                weighing: Weighing::Variable,
                description: "Agneau de la ferme ; le prix suit le poids réel (29 €/kg).",
                offers: &[offer(
                    "Gigot (env. 1,2 kg)",
                    "1.2",
                    "kg",
                    "34.80",
                    Some("6"),
                )],
            },
            product(
                "Colis d'agneau",
                "Viandes",
                "kg",
                "Gigot, côtelettes, épaule et sauté.",
                &[offer("Colis", "5", "kg", "95.00", Some("4"))],
            ),
            product(
                "Miel de printemps",
                "Épicerie",
                "g",
                "Miel crémeux de fleurs de printemps.",
                &[
                    offer("Pot de 500 g", "500", "g", "8.50", Some("20")),
                    offer("Pot de 250 g", "250", "g", "4.90", None),
                ],
            ),
            product(
                "Miel de châtaignier",
                "Épicerie",
                "g",
                "",
                &[offer("Pot de 500 g", "500", "g", "9.00", Some("12"))],
            ),
            Product {
                name: "Hydromel",
                category: "Boissons",
                unit: "cl",
                organic: false,
                weighing: Weighing::Fixed,
                description: "Vin de miel, 14 % vol.",
                offers: &[Offer {
                    label: "Bouteille",
                    quantity: "75",
                    unit: "cl",
                    price: "12.00",
                    vat: Vat::Normal,
                    stock: Some("18"),
                }],
            },
        ],
    },
];
