"""Spam and bots, found at ingest: the rules, each giving a reason in words ("" for none).

Nothing here reads or writes the database: ingest's ``find_spam`` stage reads the authors'
recent messages and the spam list once per batch and asks these rules about every message.

- Repeats: one author posting the same (or nearly the same) text again within a week, and the
  same text from three or more authors within a day (copy-paste campaigns).
- Content: money-making schemes, selling followers, fake prizes, marketing pitches to the
  brand, and impersonators of the brand sending its customers elsewhere. Where a single word
  could be innocent, a family needs more than one signal.
- The spam list (``cases.models.SpamBlock``): blocked authors and domains, and trusted
  authors, whom the content and repeat rules never mark.
"""

import hashlib
import itertools
import re
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import User

from careinbox.patterns import HintedPattern, WordPattern
from cases.models import SpamBlock
from channels.email.quoting import split_quoted

# Repeats.
SAME_AUTHOR_WINDOW = timedelta(days=7)
MANY_AUTHORS_WINDOW = timedelta(hours=24)
MANY_AUTHORS = 3
NEAR_DUPLICATE = 0.8  # Jaccard similarity of the texts' word pairs
# Shorter texts ("thanks!", "same here") are repeated innocently all the time.
MIN_WORDS = 6

# Written in lower case and searched in lower-cased text, as the content patterns below are.
URL = HintedPattern(
    r"(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}(?:/\S*)?",
    hint=r"://|www\.|\.[a-z]{2}",
)
# A domain starts where a word does: tried from inside a long word, the search would go back
# over the word from every letter of it.
DOMAIN = re.compile(r"(?:https?://)?(?<![\w-])((?:[\w-]+\.)+[a-z]{2,})(?=[/\s:?#)\]]|$)", re.I)
# A mention, which is left out, or a run of letters and digits: a word. Anything else
# (punctuation, symbols, emoji, marks, apostrophes) separates words.
MENTION_OR_WORD = re.compile(r"(?<!\w)@\w+|([^\W_]+)")


def normalise(text: str, *, email: bool = False) -> list[str]:
    """The words of a text as compared for repeats: what the author wrote (not an email's
    quoted history), lower case, without links, mentions, emoji and punctuation."""
    if email:
        text = split_quoted(text)[0]
    return [word for word in MENTION_OR_WORD.findall(URL.sub(" ", text.lower())) if word]


def shingles(words: Sequence[str]) -> frozenset[tuple[str, str]]:
    """The word pairs of a text's words (``normalise``); empty for a text too short to call
    a repeat."""
    if len(words) < MIN_WORDS:
        return frozenset()
    return frozenset(itertools.pairwise(words))


class Shingler:
    """``shingles`` of texts given by their words joined with spaces (as
    ``Message.text_words`` keeps them), each distinct text worked out once: copies share one
    object, which ``repeats`` compares once."""

    def __init__(self) -> None:
        self._known: dict[str, frozenset[tuple[str, str]]] = {}

    def __call__(self, words: str) -> frozenset[tuple[str, str]]:
        found = self._known.get(words)
        if found is None:
            found = self._known[words] = shingles(words.split())
        return found


def fingerprint(words: Sequence[str]) -> str:
    """A hash of a text's words (``normalise``); "" for a text too short."""
    if len(words) < MIN_WORDS:
        return ""
    return hashlib.sha256(" ".join(words).encode()).hexdigest()[:32]


def similar(a: frozenset, b: frozenset) -> bool:
    """Whether two texts' word pairs are near duplicates (``NEAR_DUPLICATE``)."""
    if a is b:
        return bool(a)
    if not (a and b) or min(len(a), len(b)) / max(len(a), len(b)) < NEAR_DUPLICATE:
        return False  # the smaller inside the larger would still be too few in common
    common = len(a & b)
    return common / (len(a) + len(b) - common) >= NEAR_DUPLICATE


def _prefix(pairs: frozenset[tuple[str, str]]) -> list[tuple[str, str]]:
    """The first few of a text's word pairs in sorted order. Two near duplicates (``similar``)
    have a pair in common among their first few: sharing NEAR_DUPLICATE of their pairs, each
    lacks at most ``len - ceil(NEAR_DUPLICATE * len)`` of the other's (the prefix filter of
    similarity joins; the floor here may take one pair more, which is safe)."""
    return sorted(pairs)[: len(pairs) - int(NEAR_DUPLICATE * len(pairs)) + 1]


@dataclass
class Post:
    """A message as the repeat rules see it: this batch's, or one stored before."""

    key: Hashable
    author: Hashable
    at: datetime
    shingles: frozenset[tuple[str, str]]
    stored: bool = False
    # A stored message already spam, or answered since, is never marked again.
    settled: bool = False
    trusted: bool = False
    # Whether it sends readers somewhere or mentions money: what a campaign wants.
    promotes: bool = False


def repeats(posts: Sequence[Post]) -> dict[Hashable, str]:
    """The posts the repeat rules mark, with the reason: each of this batch's posts with a
    near-duplicate by the same author within a week, and the stored copies it repeats
    (unless settled); each of this batch's posts that promotes something and whose text
    three or more authors posted within a day.

    A post is compared with its author's others only; the posts of every author are searched,
    by the first word pairs they share (``_prefix``), only for a post that promotes
    something, so the cost follows the authors' own posts and the promoting ones, not the
    square of all. That search compares each distinct text once, however many posts hold it
    (give copies one shingles object, as ``Shingler`` does, and they are found by identity).
    Stored posts were compared with each other when they arrived: they are judged again only
    when this batch repeats them."""
    by_author: dict[Hashable, list[int]] = defaultdict(list)
    for n, post in enumerate(posts):
        by_author[post.author].append(n)

    def own_copies(n: int) -> list[int]:
        post = posts[n]
        return [
            m
            for m in by_author[post.author]
            if m != n
            and _within(posts[m], post, SAME_AUTHOR_WINDOW)
            and similar(post.shingles, posts[m].shingles)
        ]

    # The distinct texts by the first word pairs, and the posts holding each.
    by_prefix: dict[tuple[str, str], list[frozenset]] | None = None
    holders: dict[frozenset, list[int]] = defaultdict(list)
    found: dict[Hashable, str] = {}
    repeated_stored: set[int] = set()
    for n, post in enumerate(posts):
        if post.stored or not post.shingles or post.trusted:
            continue
        own = own_copies(n)
        if own:
            found[post.key] = f"The same text posted {len(own) + 1} times by this author"
            repeated_stored.update(m for m in own if posts[m].stored)
            continue
        # Customers hit by the same outage write the same words: only a text that promotes
        # something is a campaign.
        if not post.promotes:
            continue
        if by_prefix is None:
            by_prefix = defaultdict(list)
            for m, other in enumerate(posts):
                holders[other.shingles].append(m)
            for text in holders:
                for pair in _prefix(text):
                    by_prefix[pair].append(text)
        authors = {post.author}
        for text in {text for pair in _prefix(post.shingles) for text in by_prefix[pair]}:
            if not similar(post.shingles, text):
                continue
            for m in holders[text]:
                other = posts[m]
                if other.author not in authors and _within(other, post, MANY_AUTHORS_WINDOW):
                    authors.add(other.author)
        if len(authors) >= MANY_AUTHORS:
            found[post.key] = f"The same text posted by {len(authors)} authors within a day"
    for m in repeated_stored:
        post = posts[m]
        if not (post.settled or post.trusted):
            count = len(own_copies(m)) + 1
            found[post.key] = f"The same text posted {count} times by this author"
    return found


def _within(a: Post, b: Post, window: timedelta) -> bool:
    return abs(a.at - b.at) <= window


# Content. Each family is a list of signals; a message is spam when enough of them are found.


Pattern = WordPattern | HintedPattern | re.Pattern[str]


@dataclass(frozen=True)
class Family:
    reason: str
    signals: tuple[Pattern, ...]
    needs: int  # how many different signals make it spam
    # Signals of which at least one must be among those found (none: any will do).
    core: tuple[Pattern, ...] = ()

    def matches(self, text: str) -> bool:
        """Whether ``text``, lower-cased, belongs to the family."""
        # Most texts have no core signal: they are cleared without reading the others.
        if self.core and not any(s.search(text) for s in self.core):
            return False
        hits = 0
        for signal in self.signals:  # the core signals are among them
            hits += signal.search(text) is not None
            if hits == self.needs:
                return True
        return False


def _re(pattern: str) -> re.Pattern[str]:
    """A content pattern, written in lower case and searched in lower-cased text: a
    case-blind search is several times slower."""
    return re.compile(pattern)


def _word(pattern: str) -> WordPattern:
    """A content pattern ``\\b(?:…)`` whose alternatives each open with a letter: searched as
    a ``WordPattern``, several times faster still."""
    return WordPattern.written(pattern)


MONEY = r"(?:[£$€]\s?\d[\d,.]*k?|\d[\d,.]*k?\s?(?:pounds|dollars|euros?|usd|gbp))"
PER_PERIOD = r"(?:(?:a|per|every|each|/)\s?(?:day|week|month|hour)|daily|weekly|monthly)"
PHONE = HintedPattern(r"\+?\d[\d\s().-]{8,}\d", hint=r"\d")
OFF_PLATFORM = _word(r"\b(?:whats\s?app|telegram|wa\.me|inbox me|dm me|text me)\b")
SUM = HintedPattern(MONEY, hint=r"\d")
PROMOTING = (URL, PHONE, OFF_PLATFORM, SUM)

# Get-rich schemes: "Make $750 a day from home, no experience needed".
MONEY_MAKING_PROMISE = _word(rf"\b(?:earn|make|making|earning|get paid)\b.{{0,20}}{MONEY}")
MONEY_PER_PERIOD = HintedPattern(rf"{MONEY}\s?(?:\+\s?)?{PER_PERIOD}", hint=r"\d")
MONEY_SCHEME = Family(
    reason="Money-making scheme",
    signals=(
        MONEY_MAKING_PROMISE,
        MONEY_PER_PERIOD,
        _word(r"\b(?:from|at) home\b"),
        _word(r"\bno (?:prior )?experience (?:needed|required|necessary)\b"),
        _word(r"\b(?:crypto|bitcoin|btc|forex|binary options?)\b"),
        _word(
            r"\b(?:passive income|financial freedom|be your own boss|i'?ll teach you"
            r"|guaranteed (?:profits?|returns|income))\b"
        ),
        OFF_PLATFORM,
    ),
    needs=3,
    core=(MONEY_MAKING_PROMISE, MONEY_PER_PERIOD),
)

# Selling followers, likes or reach: "Get 5K real followers in 24h, use code X".
AUDIENCE = HintedPattern(
    r"\b(?:\d[\d,.]*k?\+?|more|real|active|instant|cheap)\s+"
    r"(?:real\s+|active\s+|organic\s+)?(?:followers|likes|views|subscribers|retweets)\b",
    hint="followers|likes|views|subscribers|retweets",
)
AUDIENCE_SALE = Family(
    reason="Selling followers or likes",
    signals=(
        AUDIENCE,
        _word(r"\b(?:buy|get|gain|boost|grow)\b"),
        _word(r"\b(?:in \d+\s?h(?:ours?|rs?)?|cheap|discount|use code|promo code|guaranteed)\b"),
        URL,
    ),
    needs=3,
    core=(AUDIENCE,),
)

# Fake prizes: "Congratulations! You have been selected... claim your voucher".
PRIZE = _word(
    r"\b(?:you(?:'ve| have)? (?:won|been (?:selected|chosen))|selected for (?:our|a|the)"
    r"|winner|giveaway|free (?:gift|voucher|iphone))\b"
)
FAKE_PRIZE = Family(
    reason="Fake prize or giveaway",
    signals=(
        PRIZE,
        _word(r"\bcongratulations\b"),
        _word(r"\b(?:voucher|gift ?card|prize|reward|cash)\b"),
        _word(r"\b(?:claim|redeem|collect)\b"),
        _word(r"\b(?:before midnight|expires? (?:today|soon)|limited time|within \d+ hours?)\b"),
        URL,
    ),
    needs=3,
    core=(PRIZE,),
)

# Marketing pitches to the brand: SEO, page management, "grow your reach".
PITCH_OFFER = HintedPattern(
    r"\b(?:seo|marketing|growth|social media|ranking) (?:packages?|plans?|services)\b"
    r"|\bfree (?:audit|consultation|trial)\b",
    hint="package|plan|service|free ",
)
PITCH = Family(
    reason="Marketing pitch",
    signals=(
        _word(r"\b(?:seo|search engine optimi[sz]ation)\b"),
        _word(r"\b(?:rank(?:ing)? (?:on|in) google|first page|page 1|page one)\b"),
        _word(r"\bgrow your (?:page|reach|business|audience|followers|brand|sales)\b"),
        _word(r"\b(?:manages?|managing|run) (?:pages|accounts|businesses) like yours\b"),
        _word(r"\bour (?:team|agency|company|services|experts)\b"),
        PITCH_OFFER,
        _word(r"\b(?:message|contact|dm|reply to) (?:us|me) (?:now|today)\b"),
        _word(r"\b(?:i was checking|i noticed|we noticed) your (?:website|page|site)\b"),
        _word(r"\b(?:social media|digital) (?:marketing|management|agency|needs)\b"),
    ),
    needs=2,
)

FAMILIES = (MONEY_SCHEME, AUDIENCE_SALE, FAKE_PRIZE, PITCH)


def promotes(text: str) -> bool:
    """A link, a phone number, somewhere off the platform or a sum of money."""
    text = text.lower()
    return any(p.search(text) for p in PROMOTING)


def content_reason(text: str) -> str:
    """The first content family the text belongs to, or ""."""
    text = text.lower()
    return next((f.reason for f in FAMILIES if f.matches(text)), "")


# Impersonators: a brand-like name, speaking as the brand, sending customers elsewhere.

# Words in account names that say nothing about which brand it is.
GENERIC_WORDS = {
    "sample", "file", "the", "and", "care", "help", "helpline", "support", "service",
    "services", "customer", "customers", "team", "desk", "home", "official", "hq", "info",
    "hello", "contact", "mail", "email", "page", "news", "shop", "store", "stores", "online",
    "group", "ltd", "limited", "inc", "plc", "com", "net", "org", "example", "www", "http",
    "https", "uk", "usa", "us", "eu", "global", "rewards", "offers", "deals", "media",
}  # fmt: skip
SPEAKS_AS_BRAND = _word(r"\b(?:we|our|us|kindly|apologi[sz]e)\b")
SENDS_ELSEWHERE = (
    OFF_PLATFORM,
    PHONE,
    _word(r"\b(?:dm|message|contact|reach|call) (?:us|our \w+(?: \w+)?) (?:on|at|via)\b"),
    _word(r"\b(?:fill (?:in|out)|complete|submit)\b.{0,40}\bform\b"),
    _re(r"\b(?:claim|verify|login|log in|ticket|refund)\b.{0,60}" + URL.pattern),
)


def brand_words(account_name: str) -> set[str]:
    """The distinctive words of a channel account's name or handle: "Acme Home",
    "@acme_care" and "care@acme-home.example" all give {"acme"}."""
    words = re.split(r"[^a-z0-9]+", account_name.lower())
    return {w for w in words if len(w) >= 3 and w not in GENERIC_WORDS and not w.isdigit()}


def impersonation_reason(text: str, *, display_name: str, handle: str, account_name: str) -> str:
    """ "Impersonating the brand" for an author whose name looks like the brand's, who is
    not the brand's own account, speaks as the brand and sends the customer elsewhere."""
    brand = brand_words(account_name)
    name = f"{display_name} {handle}".lower()
    if not brand or not any(word in name for word in brand):
        return ""
    if handle and handle.lower().lstrip("@") in account_name.lower():
        return ""  # the brand's own account
    text = text.lower()
    if SPEAKS_AS_BRAND.search(text) and any(s.search(text) for s in SENDS_ELSEWHERE):
        return "Impersonating the brand and sending customers elsewhere"
    return ""


# The spam list.


def domains(text: str) -> set[str]:
    return {d.lower().removeprefix("www.") for d in DOMAIN.findall(text)}


class SpamList:
    """The blocked authors and domains and the trusted authors, read once per batch."""

    def __init__(self, entries: Iterable[SpamBlock]) -> None:
        self.values: dict[str, set[str]] = defaultdict(set)
        for entry in entries:
            self.values[entry.kind].add(entry.value.strip().lower())

    @staticmethod
    def author_keys(platform: str, external_id: str, handle: str) -> set[str]:
        """What an entry may name an author by: "x:123", "x:@name", "@name"."""
        keys = {f"{platform}:{external_id}".lower()}
        if handle:
            name = "@" + handle.lower().lstrip("@")
            keys |= {f"{platform}:{name}", name}
        return keys

    def trusted(self, platform: str, external_id: str, handle: str) -> bool:
        keys = self.author_keys(platform, external_id, handle)
        return bool(keys & self.values[SpamBlock.Kind.TRUSTED])

    def reason(self, platform: str, external_id: str, handle: str, text: str) -> str:
        if self.author_keys(platform, external_id, handle) & self.values[SpamBlock.Kind.AUTHOR]:
            return "Blocked author"
        blocked = self.values[SpamBlock.Kind.DOMAIN]
        if not blocked:
            return ""  # no need to find the text's domains
        for domain in sorted(domains(text)):
            parts = domain.split(".")
            if any(".".join(parts[n:]) in blocked for n in range(len(parts) - 1)):
                return f"Blocked domain {domain}"
        return ""


# Managing the spam list (supervisors, on the Spam list page).

_AUTHOR_ENTRY = re.compile(r"^(?:[a-z]+:)?@[\w.]{1,100}$|^[a-z]+:[\w@.+-]{1,320}$")
_DOMAIN_ENTRY = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def add_entry(*, kind: str, value: str, note: str = "", by: User) -> SpamBlock:
    """Put an author or a domain on the spam list (blocked or trusted). Raises
    ``ValueError`` saying what is wrong with ``value``."""
    value = value.strip().lower()
    if kind not in SpamBlock.Kind.values:
        raise ValueError(
            "Choose what to list: a blocked author, a blocked domain, or a trusted author."
        )
    if kind == SpamBlock.Kind.DOMAIN:
        value = value.removeprefix("www.")
        if not _DOMAIN_ENTRY.match(value):
            raise ValueError(f"{value!r} is not a domain like example.com.")
    elif not _AUTHOR_ENTRY.match(value):
        raise ValueError(
            f"{value!r} does not name an author: write x:12345 (a platform and its id), "
            "x:@handle, or @handle on any platform."
        )
    entry, created = SpamBlock.objects.get_or_create(
        kind=kind, value=value, defaults={"note": note.strip()[:300], "created_by": by}
    )
    if not created:
        raise ValueError(f"{entry} is already on the list.")
    return entry
