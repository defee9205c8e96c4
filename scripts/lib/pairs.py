"""The issue-13 pairs of a scripts/bench run: chatd at its defaults and the C reference measured
one right after the other ("pairN chatd+history" / "pairN c-reference" rows). One place that
matches the pairs and takes their ratios, for the pairs printout and the defaults table."""

# scenario, figure compared, target ratio
SCENARIOS = (("fanout", "deliveries per server CPU-s", 0.9), ("churn", "conn per server CPU-s", 0.85))


def pair_ratios(rows, scenario, key):
    """[(pair, chatd figure, C figure, ratio)] in run order."""
    found = []
    for row in rows:
        label = row.get("label", "")
        if row.get("scenario") == scenario and label.startswith("pair") and label.endswith("chatd+history") and row.get(key):
            pair = label.split()[0]
            peer = next((r for r in rows if r.get("scenario") == scenario and r.get("label") == pair + " c-reference"), None)
            if peer and peer.get(key):
                found.append((pair, row[key], peer[key], row[key] / peer[key]))
    return found
