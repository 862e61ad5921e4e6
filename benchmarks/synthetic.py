"""Synthetic parley/1 documents of any size, for tests and benchmarks.

The same seed gives the same document, so a figure can be reproduced.
"""

import datetime
import random

STATUSES = [
    "not-discussed", "raised", "under-discussion", "partially-agreed", "agreed",
    "implemented", "breached", "stalled", "deferred", "rejected", "withdrawn",
]  # fmt: skip
STANCES = ["demand", "offer", "accept", "reject", "condition"]
FORMATS = ["in-person", "video", "mixed"]


def generate_document(
    slug: str = "synthetic",
    rounds: int = 100,
    issues: int = 12,
    parties: int = 4,
    seed: int = 1,
    shared_prefix: str = "syn",
) -> dict:
    """A valid document: delegations with heads, outcomes, positions answering earlier
    ones, quotes, and sources for everything; every 50th round a draft, the last one
    scheduled."""
    rng = random.Random(seed)
    party_slugs = [f"{shared_prefix}-party-{i}" for i in range(parties)]
    people = [
        {
            "slug": f"{shared_prefix}-person-{p}-{j}",
            "name": f"Delegate {j} of party {p}",
            "aliases": [f"Delegat {j}/{p}"],
            "party": party_slugs[p],
            "title": "Deputy minister" if j else "Head of delegation",
        }
        for p in range(parties)
        for j in range(3)
    ]
    issue_slugs = [f"issue-{i}" for i in range(issues)]
    start = datetime.date(2000, 1, 1)
    sources = []
    round_docs = []
    position_keys: list[str] = []
    for number in range(1, rounds + 1):
        day = start + datetime.timedelta(days=number * 2)
        key = f"src-{number}"
        sources.append(
            {
                "key": key,
                "url": f"https://news.example.org/{slug}/{number}",
                "title": f"Report on round {number} — “talks” & <notes>",
                "publisher": rng.choice(["Example Wire", "Daily Example", "Agence Exemple"]),
                "author": "",
                "published_on": day.isoformat(),
                "archived_url": None,
            }
        )
        scheduled = number == rounds
        pair = rng.sample(range(parties), 2)
        delegations = [
            {
                "party": party_slugs[p],
                "members": [
                    {
                        "person": f"{shared_prefix}-person-{p}-{j}",
                        "role": "Head of delegation" if j == 0 else "Member",
                        "is_head": j == 0,
                    }
                    for j in range(3)
                ],
            }
            for p in pair
        ]
        outcomes = [
            {
                "issue": issue,
                "status": rng.choice(STATUSES),
                "text": f"Where {issue} stood after round {number}.",
                "sources": [key],
            }
            for issue in rng.sample(issue_slugs, min(4, issues))
        ]
        positions = []
        for p in pair:
            position_key = f"pos-{number}-{p}"
            answered = rng.choice(position_keys) if position_keys and rng.random() < 0.5 else None
            positions.append(
                {
                    "key": position_key,
                    "party": party_slugs[p],
                    "issue": rng.choice(issue_slugs),
                    "stance": rng.choice(STANCES),
                    "text": f"Party {p} sets out its position in round {number}.",
                    "sources": [key],
                    "responds_to": answered,
                }
            )
        position_keys += [position["key"] for position in positions]
        round_docs.append(
            {
                "number": number,
                "title": f"Round {number}",
                "status": "scheduled" if scheduled else "held",
                "published": number % 50 != 0,
                "start_date": day.isoformat(),
                "end_date": (day + datetime.timedelta(days=rng.randint(0, 1))).isoformat(),
                "location": rng.choice(["Geneva", "Istanbul", "Minsk", "Online"]),
                "format": rng.choice(FORMATS),
                "hosts": [party_slugs[pair[0]]],
                "summary": f"Summary of round {number}: the parties met and talked.",
                "delegations": delegations,
                "outcomes": [] if scheduled else outcomes,
                "positions": positions,
                "statements": [
                    {
                        "person": f"{shared_prefix}-person-{pair[0]}-0",
                        "said_on": day.isoformat(),
                        "text": f"“We made progress in round {number},” the head said.",
                        "sources": [key],
                        "original": "",
                        "language": "",
                    }
                ],
                "sources": [key],
            }
        )
    return {
        "format": "parley/1",
        "negotiation": {
            "slug": slug,
            "title": f"Synthetic talks {slug}",
            "summary": "Generated for tests and benchmarks.",
            "status": "active",
            "started_on": (start + datetime.timedelta(days=2)).isoformat(),
            "ended_on": None,
        },
        "parties": [
            {"slug": s, "name": f"Party {i}", "kind": "state", "aliases": []}
            for i, s in enumerate(party_slugs)
        ],
        "people": people,
        "issues": [
            {"slug": s, "title": f"Issue {i}", "description": f"Agenda item {i}."}
            for i, s in enumerate(issue_slugs)
        ],
        "sources": sorted(sources, key=lambda s: s["key"]),
        "rounds": round_docs,
    }
