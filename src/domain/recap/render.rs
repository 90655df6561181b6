//! Renderings of a [`Recap`]: CSV (one file per view, RFC 4180, comma
//! separated, decimal point), printable HTML (the order form by product and
//! the sign-off list — "liste d'émargement" — by customer, with a column to
//! sign) and the plain text of the closing e-mail. The HTML and the e-mail
//! are read by people: their amounts and quantities are written in French
//! (`20,00 €`, `1,537 kg`, [`crate::domain::french`]).
//!
//! CSV quoting and HTML escaping are the few lines below rather than a
//! crate: both are fixed, tiny rules, tested here. Text cells that start
//! with `=`, `+`, `-` or `@` are prefixed with `'` so a spreadsheet never
//! runs a customer's name as a formula.

use std::fmt::Write;

use super::{OrderRow, Recap};
use crate::domain::french;

/// What a recap is about, shown above it.
#[derive(Debug, Clone, Default)]
pub struct Heading {
    /// e.g. "Ferme des Tilleuls — commandes".
    pub title: String,
    /// e.g. "Marché de la Croix-Rousse, samedi 9 septembre 2023 17:00".
    pub details: Vec<String>,
}

/// One CSV field, quoted when needed.
fn csv_field(value: &str) -> String {
    let guarded = match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_owned(),
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

fn csv_row(out: &mut String, fields: &[String]) {
    let row: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
    out.push_str(&row.join(","));
    out.push_str("\r\n");
}

fn opt<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// The view by product as CSV.
pub fn products_csv(recap: &Recap) -> String {
    let mut out = String::new();
    let header = [
        "producer",
        "product",
        "offer",
        "offer_quantity",
        "unit",
        "vat_rate",
        "quantity",
        "weight",
        "lines_to_weigh",
        "total_incl",
        "total_excl",
        "vat",
    ];
    csv_row(&mut out, &header.map(String::from));
    for p in &recap.products {
        csv_row(
            &mut out,
            &[
                p.producer_name.clone(),
                p.product_name.clone(),
                p.label.clone(),
                p.offer_quantity.to_string(),
                p.unit.clone(),
                p.vat_rate.to_string(),
                p.quantity.to_string(),
                opt(p.weight),
                p.lines_to_weigh.to_string(),
                p.total_incl.to_string(),
                p.total_excl.to_string(),
                p.vat.to_string(),
            ],
        );
    }
    out
}

/// The view by customer as CSV: one row per line.
pub fn orders_csv(recap: &Recap) -> String {
    let mut out = String::new();
    let header = [
        "order_number",
        "customer",
        "product",
        "offer",
        "quantity",
        "weight",
        "unit_price",
        "total",
        "order_total",
    ];
    csv_row(&mut out, &header.map(String::from));
    for o in &recap.orders {
        for l in &o.lines {
            csv_row(
                &mut out,
                &[
                    o.number.to_string(),
                    o.customer_name.clone(),
                    l.product_name.clone(),
                    l.label.clone(),
                    l.quantity.to_string(),
                    opt(l.weight),
                    l.unit_price.to_string(),
                    l.total.to_string(),
                    o.total.to_string(),
                ],
            );
        }
    }
    out
}

/// Escapes text for HTML content and attribute values.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str =
    "body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;width:100%}\
th,td{border:1px solid #444;padding:.3em .5em;vertical-align:top;text-align:left}\
td.n{text-align:right;white-space:nowrap}td.sign{width:9em}ul{margin:0;padding-left:1.1em}\
@media print{body{margin:0}tr{page-break-inside:avoid}}";

fn page(heading: &Heading, body: &str) -> String {
    let mut out = String::new();
    let title = html_escape(&heading.title);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <style>{STYLE}</style></head><body>\n<h1>{title}</h1>\n"
    );
    for detail in &heading.details {
        let _ = writeln!(out, "<p>{}</p>", html_escape(detail));
    }
    out.push_str(body);
    out.push_str("</body></html>\n");
    out
}

fn quantity_text(quantity: &str, unit: &str, weight: Option<String>) -> String {
    match weight {
        Some(w) => format!("{quantity} ({w} {unit})"),
        None => quantity.to_owned(),
    }
}

fn line_text(o: &OrderRow) -> Vec<String> {
    o.lines
        .iter()
        .map(|l| {
            let to_weigh = if l.to_weigh { " — à peser" } else { "" };
            format!(
                "{} × {} {} — {}{to_weigh}",
                quantity_text(
                    &french::decimal(l.quantity),
                    &l.unit,
                    l.weight.map(french::decimal)
                ),
                l.product_name,
                l.label,
                french::money(l.total)
            )
        })
        .collect()
}

/// The sign-off list ("liste d'émargement"): each order with its number,
/// customer, lines and total, and an empty cell to sign on collection.
pub fn signoff_html(recap: &Recap, heading: &Heading) -> String {
    let mut body = String::from(
        "<table>\n<thead><tr><th>N°</th><th>Client</th><th>Produits</th><th>Total</th>\
         <th>Signature</th></tr></thead>\n<tbody>\n",
    );
    for o in &recap.orders {
        let items: String = line_text(o)
            .iter()
            .map(|l| format!("<li>{}</li>", html_escape(l)))
            .collect();
        let _ = writeln!(
            body,
            "<tr><td class=\"n\">{}</td><td>{}</td><td><ul>{items}</ul></td><td class=\"n\">{}</td>\
             <td class=\"sign\"></td></tr>",
            o.number,
            html_escape(&o.customer_name),
            french::money(o.total)
        );
    }
    let _ = writeln!(
        body,
        "</tbody>\n</table>\n<p>{} commande(s) — total {} TTC</p>",
        recap.orders.len(),
        french::money(recap.totals.incl)
    );
    page(heading, &body)
}

/// The order form by product: what to prepare, with the VAT recap.
pub fn products_html(recap: &Recap, heading: &Heading) -> String {
    let mut body = String::from(
        "<table>\n<thead><tr><th>Produit</th><th>Offre</th><th>Quantité</th><th>À peser</th>\
         <th>Total TTC</th><th>Total HT</th><th>TVA</th></tr></thead>\n<tbody>\n",
    );
    for p in &recap.products {
        let _ = writeln!(
            body,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{} ({})</td></tr>",
            html_escape(&p.product_name),
            html_escape(&p.label),
            html_escape(&quantity_text(
                &french::decimal(p.quantity),
                &p.unit,
                p.weight.map(french::decimal)
            )),
            p.lines_to_weigh,
            french::money(p.total_incl),
            french::money(p.total_excl),
            french::money(p.vat),
            french::percent(p.vat_rate.percent())
        );
    }
    body.push_str(
        "</tbody>\n</table>\n<h2>TVA</h2>\n<table>\n<thead><tr><th>Taux</th>\
                   <th>TTC</th><th>HT</th><th>TVA</th></tr></thead>\n<tbody>\n",
    );
    for v in &recap.vat {
        let _ = writeln!(
            body,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            french::percent(v.rate.percent()),
            french::money(v.incl),
            french::money(v.excl),
            french::money(v.vat)
        );
    }
    let t = &recap.totals;
    let _ = writeln!(
        body,
        "<tr><th>Total</th><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n\
         </tbody>\n</table>",
        french::money(t.incl),
        french::money(t.excl),
        french::money(t.vat)
    );
    page(heading, &body)
}

/// The closing e-mail: by product, then by customer, in plain text.
pub fn summary_text(recap: &Recap, heading: &Heading) -> String {
    let mut out = format!("{}\n", heading.title);
    for detail in &heading.details {
        let _ = writeln!(out, "{detail}");
    }
    if recap.is_empty() {
        out.push_str("\nAucune commande.\n");
        return out;
    }
    out.push_str("\nRécapitulatif par produits\n");
    for p in &recap.products {
        let to_weigh = if p.lines_to_weigh > 0 {
            format!(" ({} à peser)", p.lines_to_weigh)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "- {} {} : {}{to_weigh} — {} TTC",
            p.product_name,
            p.label,
            french::decimal(p.quantity),
            french::money(p.total_incl)
        );
    }
    out.push_str("\nRécapitulatif par clients\n");
    for o in &recap.orders {
        let _ = writeln!(
            out,
            "N° {} — {} — {} TTC",
            o.number,
            o.customer_name,
            french::money(o.total)
        );
        for line in line_text(o) {
            let _ = writeln!(out, "    {line}");
        }
    }
    let _ = writeln!(
        out,
        "\nTotal : {} TTC ({} HT, TVA {})",
        french::money(recap.totals.incl),
        french::money(recap.totals.excl),
        french::money(recap.totals.vat)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::super::tests::{example, line};
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn csv_quotes_and_guards_fields() {
        assert_eq!(csv_field("Pommes"), "Pommes");
        assert_eq!(csv_field("Sac, 10 kg"), "\"Sac, 10 kg\"");
        assert_eq!(csv_field("dit \"Jo\""), "\"dit \"\"Jo\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_field("a\nb"), "\"a\nb\"");
    }

    #[test]
    fn product_csv_rows() {
        let csv = products_csv(&Recap::build(&example()));
        let rows: Vec<&str> = csv.split("\r\n").collect();
        assert!(rows[0].starts_with("producer,product,offer,"), "{csv}");
        assert_eq!(
            rows[2],
            "Ferme des Tilleuls,Pommes,1 kg,1,kg,5.5,4,,0,10.00,9.48,0.52"
        );
        assert_eq!(rows.len(), 6, "header, 4 products, trailing empty: {csv}");
    }

    #[test]
    fn order_csv_has_one_row_per_line() {
        let mut lines = example();
        lines[0].customer_name = "Dupont, Alice".into();
        let csv = orders_csv(&Recap::build(&lines));
        assert_eq!(csv.lines().count(), 7, "{csv}");
        assert!(
            csv.contains("1,\"Dupont, Alice\",Pommes,1 kg,3,,2.50,7.50,33.14"),
            "{csv}"
        );
    }

    #[test]
    fn signoff_list_escapes_and_has_a_signature_column() {
        let mut lines = vec![line(
            7,
            "<b>Eve</b>",
            "Oeufs",
            dec!(2),
            dec!(3.20),
            dec!(5.5),
        )];
        lines[0].label = "Boîte de 6".into();
        let heading = Heading {
            title: "Émargement & co".into(),
            details: vec!["Samedi".into()],
        };
        let html = signoff_html(&Recap::build(&lines), &heading);
        assert!(html.contains("<th>Signature</th>"), "{html}");
        assert!(html.contains("&lt;b&gt;Eve&lt;/b&gt;"), "{html}");
        assert!(!html.contains("<b>Eve"), "{html}");
        assert!(html.contains("Émargement &amp; co"));
        assert!(html.contains("<td class=\"n\">7</td>"));
        assert!(
            html.contains("2 × Oeufs Boîte de 6 — 6,40\u{202f}€"),
            "{html}"
        );
        assert!(html.contains("<td class=\"sign\"></td>"));
    }

    #[test]
    fn order_form_and_summary_text() {
        let recap = Recap::build(&example());
        let html = products_html(&recap, &Heading::default());
        assert!(html.contains("<td>Rôti</td>"), "{html}");
        assert!(html.contains("80,64\u{202f}€"), "{html}");
        assert!(
            !html.contains("80.64"),
            "no decimal point for people: {html}"
        );
        let text = summary_text(
            &recap,
            &Heading {
                title: "Recap".into(),
                details: vec![],
            },
        );
        assert!(
            text.contains("- Rôti 1 kg : 2 (1 à peser) — 45,00\u{202f}€ TTC"),
            "{text}"
        );
        assert!(text.contains("N° 2 — Bob — 47,50\u{202f}€ TTC"), "{text}");
        assert!(
            text.contains("Total : 80,64\u{202f}€ TTC (75,61\u{202f}€ HT, TVA 5,03\u{202f}€)"),
            "{text}"
        );
        let empty = summary_text(&Recap::build(&[]), &Heading::default());
        assert!(empty.contains("Aucune commande."));
    }
}
