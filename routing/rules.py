"""Routing rules: what the rules decide for a customer message as it arrives.

At ingest, every enabled rule runs on the message in ``position`` order, and **every rule that
matches applies** until one marked "stop processing": a later rule's team or priority wins
over an earlier one's and tags add up, so a catch-all rule can sit first and specific rules
after it. A rule matches when all its conditions hold; an empty condition holds for every
message.

What the actions do to the case is deliberately modest, because people may have decided
otherwise already: a rule sets the team only of a case without one (a person moves it after
that), only ever raises the priority, and only adds tags. "Needs no reply" marks the message,
never hides it: it stays on the case with the reason, in a "Routed by rules" history event,
starts no response clock and reopens nothing.

A sentiment condition holds for a message of that sentiment as ``routing.sentiment`` found
it at ingest; an unscored message ("") matches none.

Customers have no tags of their own in this data model (tags are on cases), so there is no
condition on customer tags yet.

Two detectors are heuristics with known limits:

- ``detect_language`` reads the script (Arabic, Cyrillic as Russian, kana as Japanese,
  Hangul, Han as Chinese) or counts common words of English, French, German, Spanish,
  Italian, Dutch and Portuguese. Texts with fewer than two such words, or a tie, are
  unknown (""), and an unknown language matches no language condition. Mixed-language
  texts go by their majority; Ukrainian or Bulgarian read as Russian.
- ``is_closing_thanks`` says a message only thanks us or reports that all is well: it needs
  a word of thanks or of closure, no question, no "but/still/not", and at most
  ``CLOSING_MAX_WORDS`` words of new text (an email's quoted history is left out). It
  prefers missing a closing message (its clock then runs as usual) to silencing a question.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any, Protocol

from django.db import transaction
from django.db.models import Max

from careinbox.patterns import HintedPattern, WordPattern
from channels.email.quoting import split_quoted
from routing.models import Language, RoutingRule, Store
from staff.models import Team

CLOSING_MAX_WORDS = 30

_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*")
_MENTION_OR_LINK = HintedPattern(
    r"(?:^|\s)@\w+|https?://\S+|\b\S+\.(?:com|net|org|example)\S*",
    hint=r"@|://|\.(?:com|net|org|example)",
)
_SENT_FROM = re.compile(r"^\s*sent from my .*$|^\s*sent from \w+ mail.*$", re.I | re.M)

# Common words of each language, the fewer shared with another language the better.
STOP_WORDS: dict[str, frozenset[str]] = {
    code: frozenset(words.split())
    for code, words in {
        Language.ENGLISH: "the and is are was were to of it you my i for on with this that have "
        "be at your we can do not just but from has had what when will would there they "
        "me so thanks thank",
        Language.FRENCH: "le les et est une des du pour pas je vous mon ma mes avec sur dans "
        "ce qui que au aux bonjour merci votre nous été mais très j'ai c'est",
        Language.GERMAN: "der die das und ist ich nicht sie mit ein eine zu den von auf für es "
        "mein meine bitte danke hallo ihr wir auch noch habe haben wurde dem sehr",
        Language.SPANISH: "el los las y es una que en por para mi con su lo gracias hola pero "
        "del al está muy estoy tengo",
        Language.ITALIAN: "il gli e è che di per non con sono ho grazie ciao della del questo "
        "anche mio mia",
        Language.DUTCH: "het een en niet ik je van op voor met mijn dat zijn dank bedankt "
        "hallo ook maar wij heb",
        Language.PORTUGUESE: "os um uma que em para não meu minha com obrigado obrigada olá "
        "você está muito tenho",
    }.items()
}
# Scripts that name a language on their own, and how to recognise their letters.
SCRIPTS: list[tuple[str, re.Pattern[str]]] = [
    (Language.JAPANESE, re.compile(r"[\u3040-\u30ff]")),
    (Language.KOREAN, re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")),
    (Language.ARABIC, re.compile(r"[\u0600-\u06ff\u0750-\u077f]")),
    (Language.RUSSIAN, re.compile(r"[\u0400-\u04ff]")),
]
_HAN = re.compile(r"[\u4e00-\u9fff]")
_LETTER = re.compile(r"[^\W\d_]")
# The languages each common word belongs to, for counting a text's words once.
_LANGUAGES_OF: dict[str, tuple[str, ...]] = {
    word: tuple(code for code, stop in STOP_WORDS.items() if word in stop)
    for word in frozenset().union(*STOP_WORDS.values())
}

_THANKS = re.compile(
    r"\b(?:thanks|thank\s+you|thankyou|thx|ty|cheers|ta|appreciated|appreciate\s+it|grateful|"
    r"danke|dank|merci|gracias|grazie|bedankt|obrigad[oa])\b|ありがとう|감사|谢谢|شكرا",
    re.IGNORECASE,
)
_ALL_WELL = re.compile(
    r"\b(?:all\s+(?:sorted|good|fixed|fine|done)|sorted|working(?:\s+again|\s+now)?|"
    r"back\s+(?:on|up)|fixed|resolved|arrived|found\s+it|got\s+it|"
    r"ignore\s+(?:me|this|my)|no\s+need\s+to\s+(?:reply|respond|answer|get\s+back))\b",
    re.IGNORECASE,
)
# Anything that leaves the conversation open: a question, a reservation, something sent for
# us to act on (an attachment, a number such as an order or account), praise for a colleague
# (the brand answers it), or a thread marker ("2/") saying more is coming.
_OPEN = re.compile(
    r"[?\uff1f\u00bf\u061f]|\b(?:but|however|although|though|still|yet|unfortunately|not|never|no\s+longer|"
    r"can\s+you|could\s+you|can\s+i|could\s+i|please|when|why|how|where|which|"
    r"problem|issue|wrong|broken|again\s+(?:and|broke|stopped)|attach(?:ed|ing)?|"
    r"(?:thanks|thank\s+you)\s+to)\b|n['\u2019]t\b|\d{3,}|(?:^|\s)\d+/\d*\s*$",
    re.IGNORECASE,
)
# The same, searched in lower-cased text: several times faster than a case-blind search.
_THANKS_IN_LOWER_CASE = re.compile(_THANKS.pattern)
_ALL_WELL_IN_LOWER_CASE = WordPattern.written(_ALL_WELL.pattern)
STORE_WORDS = r"(?:store|shop|branch|outlet)"


class Readable(Protocol):
    """What the rules read of a customer message (a stored ``cases.Message``)."""

    @property
    def text(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def sentiment(self) -> str: ...  # "neg", "neu", "pos"; "" when not scored
    @property
    def channel_account_id(self) -> int | None: ...
    @property
    def channel_account(self) -> Any: ...  # the ChannelAccount, or None
    @property
    def attachments(self) -> Any: ...  # what says whether it has any (``exists()``)


def message_text(message: Readable) -> str:
    """What the customer wrote now: an email's subject and new text, without the quoted
    history or "Sent from my phone"."""
    text = message.text
    if message.channel == "email":
        text = split_quoted(text)[0]
        text = f"{message.subject}\n{text}" if message.subject else text
    return _SENT_FROM.sub("", text).strip()


def _words(text: str) -> list[str]:
    return _WORD.findall(_MENTION_OR_LINK.sub(" ", text).lower())


def detect_language(text: str) -> str:
    """The language of ``text`` as a ``Language`` value, or "" when unsure."""
    letters = len(_LETTER.findall(text))
    if not letters:
        return ""
    if not text.isascii():  # the scripts' letters are none of them ASCII
        for code, script in SCRIPTS:
            if len(script.findall(text)) * 2 > letters:
                return code
        if len(_HAN.findall(text)) * 2 > letters:
            return Language.CHINESE
    counts = dict.fromkeys(STOP_WORDS, 0)
    for word in _words(text):
        for code in _LANGUAGES_OF.get(word, ()):
            counts[code] += 1
    scores = sorted(((count, code) for code, count in counts.items()), reverse=True)
    (best, code), (runner_up, _) = scores[0], scores[1]
    return code if best >= 2 and best > runner_up else ""


def says_thanks(text: str) -> bool:
    """Whether ``text`` has a word of thanks, in any of the languages known here."""
    return _THANKS.search(text) is not None


def is_closing_thanks(text: str) -> bool:
    """Whether ``text`` only thanks us or says all is well, and leaves nothing open."""
    lowered = text.lower()  # most messages thank nobody: the cheapest test first
    if not (_THANKS_IN_LOWER_CASE.search(lowered) or _ALL_WELL_IN_LOWER_CASE.search(lowered)):
        return False
    words = _words(text)
    if not words or len(words) > CLOSING_MAX_WORDS:
        return False
    return _OPEN.search(_MENTION_OR_LINK.sub(" ", text)) is None


def _store_pattern(store: Store) -> re.Pattern[str]:
    """A store is named by its name or an alias ("White Rose"), or by its city next to a
    word for a shop ("the Leeds store", "shop in Leeds"); the city alone is not enough
    ("my router in Leeds")."""
    return _names_pattern(store.name, store.aliases, store.city)


@lru_cache(maxsize=1024)  # every message is read for every store: built once each
def _names_pattern(name: str, aliases: str, city: str) -> re.Pattern[str]:
    names = [name, *(a.strip() for a in aliases.split(","))]
    named = "|".join(re.escape(n) for n in names if n)
    city = re.escape(city)
    return re.compile(
        rf"\b(?:{named})\b|\b{city}\s+(?:[^\W\d_]+\s+){{0,2}}?{STORE_WORDS}\b"
        rf"|\b{STORE_WORDS}\s+(?:in|at)\s+(?:the\s+)?{city}\b",
        re.IGNORECASE,
    )


def named_store(text: str, stores: Sequence[Store]) -> Store | None:
    """The store the text names first, if any."""
    found = [
        (match.start(), n)
        for n, store in enumerate(stores)
        if (match := _store_pattern(store).search(text))
    ]
    return stores[min(found)[1]] if found else None


class _Reading:
    """One message as the rules see it; the costlier readings are made at most once."""

    def __init__(self, message: Readable, stores: Sequence[Store]) -> None:
        self.message = message
        self.stores = stores
        self.text = message_text(message)
        self.platform = message.channel_account.platform if message.channel_account else ""

    @cached_property
    def language(self) -> str:
        return detect_language(self.text)

    @cached_property
    def closing_thanks(self) -> bool:
        # Files sent with a thank-you are for us to act on.
        return is_closing_thanks(self.text) and not self.message.attachments.exists()

    @cached_property
    def store(self) -> Store | None:
        return named_store(self.text, self.stores)


def _keywords(rule: RoutingRule) -> list[str]:
    return [k.strip() for k in rule.keywords.split(",") if k.strip()]


def _matches(rule: RoutingRule, reading: _Reading) -> bool:
    if rule.channel_account_id and rule.channel_account_id != reading.message.channel_account_id:
        return False
    if rule.platform and rule.platform != reading.platform:
        return False
    keywords = _keywords(rule)
    if keywords and not any(
        re.search(rf"(?<!\w){re.escape(k)}(?!\w)", reading.text, re.IGNORECASE) for k in keywords
    ):
        return False
    if rule.pattern and not re.search(rule.pattern, reading.text, re.IGNORECASE):
        return False
    if rule.language and rule.language != reading.language:
        return False
    if rule.sentiment and rule.sentiment != reading.message.sentiment:
        return False
    if rule.closing_thanks and not reading.closing_thanks:
        return False
    return not (rule.names_store and reading.store is None)


@dataclass
class Outcome:
    """What the matching rules decided for one message."""

    rules: list[str] = field(default_factory=list)
    team: Team | None = None
    store: Store | None = None
    priority: str = ""
    tags: list[str] = field(default_factory=list)
    no_reply_reason: str = ""


def evaluate(
    rules: Sequence[RoutingRule], message: Readable, *, stores: Sequence[Store]
) -> Outcome:
    """Run ``rules`` in order on ``message``; writes nothing. ``stores`` is the store list
    (needed by rules that name stores)."""
    reading, outcome = _Reading(message, stores), Outcome()
    for rule in rules:
        if not _matches(rule, reading):
            continue
        outcome.rules.append(rule.name)
        if rule.set_team_id:
            outcome.team = rule.set_team
        if rule.team_from_store and reading.store is not None and reading.store.team_id:
            outcome.team, outcome.store = reading.store.team, reading.store
        if rule.set_priority:
            outcome.priority = rule.set_priority
        outcome.tags += [t for t in _tags(rule) if t not in outcome.tags]
        if rule.mark_no_reply:
            outcome.no_reply_reason = f"Routing rule “{rule.name}”: needs no reply."
        if rule.stop_processing:
            break
    return outcome


def _tags(rule: RoutingRule) -> list[str]:
    return [t.strip().lower()[:50] for t in rule.add_tags.split(",") if t.strip()]


def enabled_rules() -> list[RoutingRule]:
    return list(
        RoutingRule.objects.filter(enabled=True)
        .select_related("set_team", "channel_account")
        .order_by("position", "pk")
    )


def load_stores() -> list[Store]:
    return list(Store.objects.select_related("team").order_by("pk"))


def save_rule(*, rule: RoutingRule) -> RoutingRule:
    """Save a rule; a new one goes after every other."""
    with transaction.atomic():
        if rule.pk is None:
            last = RoutingRule.objects.select_for_update().aggregate(last=Max("position"))
            rule.position = (last["last"] or 0) + 1
        rule.save()
    return rule


def move_rule(*, rule_id: int, up: bool) -> None:
    """Swap a rule with its neighbour above (or below); positions are renumbered 1, 2, 3...
    Moving the first rule up or the last down does nothing."""
    with transaction.atomic():
        rules = list(RoutingRule.objects.select_for_update().order_by("position", "pk"))
        index = next((n for n, r in enumerate(rules) if r.pk == rule_id), None)
        if index is None:
            raise RoutingRule.DoesNotExist(f"There is no routing rule {rule_id}.")
        other = index - 1 if up else index + 1
        if 0 <= other < len(rules):
            rules[index], rules[other] = rules[other], rules[index]
        for position, rule in enumerate(rules, start=1):
            if rule.position != position:
                rule.position = position
                rule.save(update_fields=["position"])


def set_rule_enabled(*, rule_id: int, enabled: bool) -> RoutingRule:
    rule = RoutingRule.objects.get(pk=rule_id)
    if rule.enabled != enabled:
        rule.enabled = enabled
        rule.save(update_fields=["enabled", "updated_at"])
    return rule
