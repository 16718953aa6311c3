"""Finding incidents among customer messages: pure functions, no database.

A customer message is represented by its distinctive tokens (words and bigrams without stop
words, @mentions, links and quoted email history), the codes it quotes ("PAY-503", kept
whole), the places it names and whether it speaks of something failing. Two messages are
about the same problem when their tokens are similar enough (TF-IDF cosine), when they quote
the same code, or when they name the same place and both say something is failing.

A group of such messages becomes a proposed incident once a window of time holds enough of
its messages from enough customers. Later messages about the same problem join the incident
while it is live, as does anything its customers write meanwhile.
"""

import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

# Quoted history of an email reply: the "On <date>, <someone> wrote:" line and what follows,
# or "> " lines.
_QUOTED = re.compile(
    r"^\s*(?:On\s.{0,200}?(?:wrote:|<[^>\s]+@[^>\s]+>)|-{2,}\s*Original Message\s*-{2,}"
    r"|From:\s).*",
    re.I | re.M | re.S,
)
_QUOTE_LINE = re.compile(r"^\s*>.*$", re.M)
_MENTION_OR_LINK = re.compile(
    r"(?:^|(?<=\W))@\w+|https?://\S+|\bwww\.\S+|\b\S+\.(?:com|net|org|example|co\.uk)\S*"
)
# Codes kept whole: letters, a hyphen and more letters or digits ending in a digit.
_CODE = re.compile(r"\b[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*-[A-Z0-9]*\d\b")
# A UK postcode district ("M21", "SK4 2", "BS3"): its area letters name the place.
_POSTCODE = re.compile(r"\b([A-Z]{1,2})\d{1,2}[A-Z]?(?:\s\d[A-Z]{0,2})?\b")
# A US place: "Springfield, IL".
_US_PLACE = re.compile(r"\b([A-Z][a-z]+(?:\s[A-Z][a-z]+)?),\s(?:[A-Z]{2})\b")
# Capitalised words after a word that introduces a place.
_PLACE_AFTER = re.compile(
    r"\b(?:in|near|across|around|throughout)\s+(?:(?:north|south|east|west|central|the)\s+)?"
    r"([A-Z][a-zA-Z'\u2019]+(?:\s[A-Z][a-zA-Z'\u2019]+)?)"
)
_WORD = re.compile(r"[^\W\d_][\w'\u2019]*", re.U)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_NOT_PLACES = _words(
    """
    i the my our your a an this that it me us you he she they we mum dad work home january
    february march april may june july august september october november december monday
    tuesday wednesday thursday friday saturday sunday
    """
)

STOP_WORDS = _words(
    """
    a about above after again all also am an and any anyone anything are as at be because
    been before being both but by can could did do does doing done for from get got had has
    have having he her here hers him his how i i'm i've i'd if in into is it it's its itself
    just let me more most much my myself now of on once only or other our ours out over own
    please same she should so some such than that that's the their theirs them then there
    these they this those through to too under until up very was we were what when where
    which while who whom why will with would you your yours yourself hi hello hey thanks
    thank cheers dear regards sir madam lol ok okay yes yeah yep still even really right
    today tonight morning evening time one two im ive dont cant anyone else someone
    """
)

_PROBLEM = re.compile(
    r"\b(?:down|outage|outages|offline|broken|broke|error|errors|fail|fails|failed|failing|"
    r"failure|dead|died|lost|declined|crash|crashed|crashing|cut\s+off|gone\s+off|"
    r"(?:has|have|just)\s+gone|no\s+(?:internet|connection|signal|service|broadband|wifi|"
    r"power|network)|(?:not|isn'?t|won'?t|wont|stopped|aren'?t)\s+(?:working|loading|connecting)|"
    r"won'?t\s+(?:let|take|accept|load|connect)|can'?t\s+(?:pay|connect|log\s?in|get)|"
    r"keeps?\s+(?:failing|crashing|dropping)|is\s+off|are\s+off|out\b|back\s+(?:up|on|now)|"
    r"working\s+again|restored|fixed)\b",
    re.I,
)


@dataclass(frozen=True)
class Features:
    tokens: frozenset[str]
    codes: frozenset[str]
    places: frozenset[str]
    problem: bool


@dataclass(frozen=True)
class Post:
    """A customer message as detection sees it."""

    key: Any
    customer: Any
    at: datetime
    text: str
    spam: bool = False


@dataclass
class Live:
    """An incident already found: its messages so far."""

    key: Any
    last_at: datetime
    members: list[Post]


@dataclass
class Proposal:
    posts: list[Post]
    title: str
    places: list[str]
    terms: list[str]


@dataclass
class Found:
    joins: dict[Any, Any] = field(default_factory=dict)  # post key -> incident key
    proposals: list[Proposal] = field(default_factory=list)


@dataclass(frozen=True)
class Thresholds:
    min_messages: int = 8
    min_customers: int = 6
    window: timedelta = timedelta(minutes=120)
    quiet: timedelta = timedelta(hours=24)
    similarity: float = 0.3
    # How close to an incident's messages as a whole a later message must be to join it.
    closeness: float = 0.1


def own_text(text: str) -> str:
    """The message without quoted email history, @mentions and links."""
    text = _QUOTED.sub("", text, count=1)
    text = _QUOTE_LINE.sub("", text)
    return _MENTION_OR_LINK.sub(" ", text)


def features(text: str, *, cities: Iterable[str] = ()) -> Features:
    own = own_text(text)
    codes = frozenset(code.upper() for code in _CODE.findall(own))
    places = {m.strip().lower() for m in _PLACE_AFTER.findall(own)}
    places |= {m.lower() for m in _US_PLACE.findall(own)}
    places = {p for p in places if p.split()[0] not in _NOT_PLACES}
    places |= {f"{area.lower()} postcodes" for area in _POSTCODE.findall(_CODE.sub(" ", own))}
    lowered = own.lower()
    for city in cities:
        if city and re.search(rf"\b{re.escape(city.lower())}\b", lowered):
            places.add(city.lower())
    words = [
        w.replace("\u2019", "'")
        for w in _WORD.findall(lowered)
        if len(w) > 1 and w.replace("\u2019", "'") not in STOP_WORDS
    ]
    tokens = set(words) | {f"{a} {b}" for a, b in itertools.pairwise(words)}
    tokens |= {code.lower() for code in codes} | places
    return Features(
        tokens=frozenset(tokens),
        codes=codes,
        places=frozenset(places),
        problem=bool(_PROBLEM.search(own)),
    )


# How many of an incident's latest messages a new message is compared with.
MEMBERS_COMPARED = 100


class _Space:
    """TF-IDF vectors of posts, weighted by how rare each token is among the posts given."""

    def __init__(self, posts: Sequence[Post], cities: Sequence[str]) -> None:
        self.features = {post.key: features(post.text, cities=cities) for post in posts}
        df: Counter[str] = Counter()
        for f in self.features.values():
            df.update(f.tokens)
        n = max(len(posts), 1)
        self.df = df
        self.n = n
        self.vectors: dict[Any, dict[str, float]] = {}
        for key, f in self.features.items():
            weights = {t: math.log(1 + n / df[t]) for t in f.tokens}
            norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
            self.vectors[key] = {t: w / norm for t, w in weights.items()}

    def cosine(self, a: Any, b: Any) -> float:
        va, vb = self.vectors[a], self.vectors[b]
        if len(va) > len(vb):
            va, vb = vb, va
        return sum(w * vb.get(t, 0.0) for t, w in va.items())

    def related(self, a: Any, b: Any, similarity: float) -> bool:
        return self.share_code_or_place(a, b) or self.cosine(a, b) >= similarity

    def share_code_or_place(self, a: Any, b: Any) -> bool:
        """The same code, or a failure in the same place: cheap set tests, no cosine."""
        fa, fb = self.features[a], self.features[b]
        if fa.codes & fb.codes:
            return True
        return bool(fa.problem and fb.problem and (fa.places & fb.tokens or fb.places & fa.tokens))

    def centroid(self, keys: Iterable[Any]) -> dict[str, float]:
        total: Counter[str] = Counter()
        for key in keys:
            total.update(self.vectors[key])
        norm = math.sqrt(sum(w * w for w in total.values())) or 1.0
        return {t: w / norm for t, w in total.items()}

    def near(self, key: Any, centroid: dict[str, float], places: set[str]) -> float:
        """How close a post is to a group: cosine to its centroid; a failure in one of the
        group's places counts as close."""
        f = self.features[key]
        if f.problem and places & f.tokens:
            return 1.0
        return sum(w * centroid.get(t, 0.0) for t, w in self.vectors[key].items())


def find(
    posts: Sequence[Post],
    live: Sequence[Live],
    *,
    thresholds: Thresholds = Thresholds(),
    cities: Sequence[str] = (),
) -> Found:
    """Which of ``posts`` (customer messages in no incident yet) join the ``live`` incidents,
    and which groups of the rest are new incidents. Spam never counts nor joins."""
    found = Found()
    candidates = sorted((p for p in posts if not p.spam), key=lambda p: (p.at, str(p.key)))
    # A big incident is compared by its latest messages only: what customers write about it
    # now, and a cost that stays the same however many have written.
    recent = {i.key: sorted(i.members, key=lambda m: m.at)[-MEMBERS_COMPARED:] for i in live}
    members = [m for incident in live for m in recent[incident.key]]
    space = _Space([*candidates, *members], cities)
    last = {incident.key: incident.last_at for incident in live}
    customers = {incident.key: {m.customer for m in incident.members} for incident in live}
    centroids = {i.key: space.centroid(m.key for m in recent[i.key]) for i in live}
    places = {
        i.key: {p for m in recent[i.key] for p in space.features[m.key].places} for i in live
    }
    rest = []
    for post in candidates:
        home = next(
            (
                incident.key
                for incident in live
                if post.at <= last[incident.key] + thresholds.quiet
                and (
                    post.customer in customers[incident.key]
                    or space.near(post.key, centroids[incident.key], places[incident.key])
                    >= thresholds.closeness
                    # Wording is weighed against the centroid above; one by one, the
                    # latest messages are searched only for a shared code or place.
                    or any(
                        space.share_code_or_place(post.key, m.key) for m in recent[incident.key]
                    )
                )
            ),
            None,
        )
        if home is None:
            rest.append(post)
            continue
        found.joins[post.key] = home
        last[home] = max(last[home], post.at)
        customers[home].add(post.customer)
        next(i for i in live if i.key == home).members.append(post)
        recent[home].append(post)
    for group in _groups(rest, space, thresholds):
        if _passes(group, thresholds):
            found.proposals.append(_proposal(group, space))
    return found


def _groups(posts: list[Post], space: _Space, thresholds: Thresholds) -> list[list[Post]]:
    """Connected groups of related posts, each post related to one within the window."""
    parent = list(range(len(posts)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, a in enumerate(posts):
        for j in range(i + 1, len(posts)):
            b = posts[j]
            if b.at - a.at > thresholds.window:
                break
            if root(i) != root(j) and space.related(a.key, b.key, thresholds.similarity):
                parent[root(j)] = root(i)
    groups: dict[int, list[Post]] = {}
    for i, post in enumerate(posts):
        groups.setdefault(root(i), []).append(post)
    return list(groups.values())


def _passes(group: list[Post], thresholds: Thresholds) -> bool:
    """Whether some window holds enough of the group's messages from enough customers."""
    if len(group) < thresholds.min_messages:
        return False
    start = 0
    for end, post in enumerate(group):
        while post.at - group[start].at > thresholds.window:
            start += 1
        inside = group[start : end + 1]
        if (
            len(inside) >= thresholds.min_messages
            and len({p.customer for p in inside}) >= thresholds.min_customers
        ):
            return True
    return False


def _proposal(group: list[Post], space: _Space) -> Proposal:
    counts: Counter[str] = Counter()
    codes: Counter[str] = Counter()
    places: Counter[str] = Counter()
    for post in group:
        f = space.features[post.key]
        counts.update(t for t in f.tokens if t not in f.places)
        codes.update(f.codes)
        places.update(p for p in f.places if not p.endswith(" postcodes"))
    # Distinctive: frequent in the group, rarer outside it.
    size = len(group)
    scored = sorted(
        counts,
        key=lambda t: (-(counts[t] / size) * math.log(1 + space.n / space.df[t]), t),
    )
    terms = [t for t in scored if counts[t] >= 2][:12]
    words = [t for t in terms if " " not in t and t.upper() not in codes][:3]
    head = [c for c, n in codes.most_common(1) if n >= 2]
    head += [p.title() for p, n in places.most_common(1) if n >= 2]
    title = " ".join([*head, *words]) or "Many similar messages"
    return Proposal(
        posts=group,
        title=title[:200],
        places=[p for p, _ in places.most_common(10)],
        terms=terms,
    )
