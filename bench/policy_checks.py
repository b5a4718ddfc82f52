"""How long moderation.policy.evaluate() takes with the whole catalogue switched on.

Owns: two sample posts (a typical ~300-character post with a link, a hashtag and a mention; a 500-character post
with some personal data in it), a realistic organisation setting (every check on, 20 deliberation topics, 30 policy
topics, 50 denied domains, allow lists) and the timing loop: median and p99 microseconds per evaluate(), plus each
check on its own for the long post. Never: touches a database, the network or the clock inside evaluate().

    python bench/policy_checks.py --runs 20000
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from moderation.policy import (CATALOGUE, Attachment, Author, CheckSetting, PolicySettings, PostDraft,  # noqa: E402
                               evaluate)

TYPICAL = (
    "Vanaf maandag is de Stationsstraat afgesloten voor al het verkeer vanwege de vervanging van het riool. "
    "Fietsers en voetgangers kunnen via de Molenweg. Meer informatie en een kaart met de omleiding vindt u op "
    "https://www.gemeente-x.nl/werk-in-uitvoering/stationsstraat #WerkInUitvoering met dank aan @wijkteam@social.nl"
)
LONG = (
    "Bewonersavond over de herinrichting van het Marktplein op 12 maart om 19:30 in het stadhuis. U kunt vooraf "
    "vragen sturen naar participatie@gemeente-x.nl of bellen met 14 0318. Wie niet kan komen, kijkt later terug "
    "op https://www.gemeente-x.nl/marktplein en reageert tot 1 april. Het college neemt daarna een besluit over "
    "de varianten; de gemeenteraad bespreekt het voorstel in mei. Kosten: € 1.250.000. #Marktplein #Participatie "
    "met @raadsgriffie@gemeente-x.nl en @wijkraad@mastodon.nl, tot dan!"
)

THEMES = ["parkeerbeleid", "windpark noord", "begroting", "zonneweide", "azc", "omgevingsvisie", "marktplein",
          "bestemmingsplan", "jeugdzorg", "huisvesting statushouders"]


def settings() -> PolicySettings:
    topics = [{"terms": [f"{theme} {n}", f"{theme}{n}x"], "from": "2025-01-01", "until": "2025-12-31"}
              for n, theme in enumerate(THEMES * 2)]
    topics[0]["terms"].append("herinrichting van het marktplein")  # one topic the long post touches
    options = {
        "personal-data.phone": {"allow": ["14 0318", "030-2861111"]},
        "personal-data.email": {"allow": ["@gemeente-x.nl"]},
        "personal-data.address": {"allow": ["3521 AZ 1"]},
        "deliberation": {"topics": topics},
        "personal-voice-policy": {"topics": [f"{t}{n}" for n, t in enumerate(THEMES * 3)]},
        "link-denylist": {"domains": [f"slecht{n}.example" for n in range(50)]},
        "official-rate": {"max_per_hour": 10},
    }
    return PolicySettings({check.id: CheckSetting("warn" if "warn" in check.actions else "hold",
                                                  options.get(check.id, {})) for check in CATALOGUE})


def draft(text: str) -> PostDraft:
    return PostDraft(text=text, voice="personal", now=datetime(2025, 3, 17, 10, 0, tzinfo=ZoneInfo("Europe/Amsterdam")),
                     attachments=(Attachment("Kaart van de omleiding", "image/png"),), in_reply_to=False,
                     author=Author("anna", "member"), organisation="gemeente-x", language="nl",
                     recent_official_posts_last_hour=3)


def measure(post: PostDraft, policy: PolicySettings, runs: int) -> tuple[float, float, int]:
    for _ in range(min(1000, runs)):
        evaluate(post, policy)
    samples = []
    clock = time.perf_counter_ns
    for _ in range(runs):
        started = clock()
        evaluate(post, policy)
        samples.append(clock() - started)
    samples.sort()
    return statistics.median(samples) / 1000, samples[int(len(samples) * 0.99) - 1] / 1000, len(
        evaluate(post, policy).findings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20_000)
    args = parser.parse_args()
    policy = settings()
    print(f"Python {platform.python_version()} on {platform.machine()}, {args.runs} runs each, "
          f"{len(CATALOGUE)} checks on")
    print(f"{'post':<28} {'chars':>5} {'findings':>8} {'median µs':>10} {'p99 µs':>8}")
    for name, text in (("typical (link, #, @)", TYPICAL), ("500 characters", LONG)):
        median, p99, findings = measure(draft(text), policy, args.runs)
        print(f"{name:<28} {len(text):>5} {findings:>8} {median:>10.1f} {p99:>8.1f}")
    print(f"\nper check, 500-character post, {args.runs // 4} runs")
    print(f"{'check':<28} {'median µs':>10} {'p99 µs':>8}")
    for check in CATALOGUE:
        alone = PolicySettings({check.id: policy.setting(check.id)})
        median, p99, _ = measure(draft(LONG), alone, args.runs // 4)
        print(f"{check.id:<28} {median:>10.1f} {p99:>8.1f}")


if __name__ == "__main__":
    main()
