"""Praise: a customer's warm words about a named person, store or team, so that they reach them.

``find_praise`` needs both a praise signal and a named target near it (in the same sentence or
the one after). A target is:

- a capitalised first name next to role context: "<Name> at the <place> store", "<Name> on
  the tills", "<Name> on your phone line", "<Name> from your complaints team", "<Name> the
  engineer", "<Name> and his partner";
- a name spoken to or thanked: "thank you <Name>", "thanks <Name> for", "<Name> you're a star";
- a staff member's first or full name, from the names given;
- a store the text names (``named_store``) or a team by what it does ("the installation
  team", "the delivery lads", "your drivers"), with a place after it ("... in Bristol").

It is deliberately cautious: the sentence naming the target must hold no complaint ("never
called back", "rude", "still waiting"), a name after "my" ("my dad Steve") is family, and an
email's sign-off (the customer's own name) is not read.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from careinbox.patterns import WordPattern
from routing.models import Store
from routing.rules import named_store
from staff.models import Team

_NAME = r"[A-Z][a-z]+(?:-[A-Z][a-z]+)?"
_PRAISE = re.compile(
    r"\b(?:brilliant|lovely|excellent|helpful|patient|kind(?!\s+of\b)|spot\s+on|top\s+bloke|"
    r"legend|star|hero|superb|fantastic|amazing|wonderful|great|cheerful|careful|friendly|"
    r"polite|professional|above\s+and\s+beyond|credit\s+where|shout[\s-]?out|thank\s*you|"
    r"thanks|cheers|appreciate[ds]?|grateful|medal|pay\s+rise|a\s+credit\s+to|helped|"
    r"went\s+out\s+of\s+(?:her|his|their)\s+way|couldn['\u2019]?t\s+have\s+been\s+more|"
    r"so\s+good|really\s+good|a\s+gem|delight)\b",
    re.IGNORECASE,
)
# The same, searched in lower-cased text: several times faster than a case-blind search.
_PRAISE_IN_LOWER_CASE = WordPattern.written(_PRAISE.pattern)
# What makes a sentence a complaint about the person it names.
_COMPLAINT = re.compile(
    r"\b(?:not|no\s+one|nobody|never(?!\s+once)|rude|useless|unhelpful|terrible|awful|worst|"
    r"still\s+waiting|promised|supposed\s+to|hung\s+up|ignored|lied|waste|disgusted|"
    r"appalling|shocking|unacceptable|complain(?:t|ing)?|but)\b|n['\u2019]t\b",
    re.IGNORECASE,
)
# Words that open a sentence or name things, never a member of staff.
_NOT_NAME_WORDS = """
    a an the i i'm im my our your their his her its we you they he she it this that these those
    thanks thank hi hello hey dear please just update huge credit shout give whoever really
    above picked replacement spare dryer fibre first also and but so then when what why how
    everyone someone anyone staff team store shop branch guy lady man woman lads chap gentleman
    engineer engineers driver drivers manager customer service support care home sorry ok okay
    yes no well great good lovely brilliant excellent amazing fantastic today yesterday tomorrow
    monday tuesday wednesday thursday friday saturday sunday january february march april may
    june july august september october november december christmas easter mr mrs ms miss dr sir
    madam all both nobody none one two three still again there here after before now
"""
_NOT_NAMES = frozenset(_NOT_NAME_WORDS.split())
_FAMILY = re.compile(
    r"\bmy\s+(?:(?:dad|mum|mom|mother|father|husband|wife|son|daughter|partner|brother|"
    r"sister|gran|grandad|grandma|grandpa|nan|aunt|uncle|friend|neighbour|boss|kids?|"
    r"boyfriend|girlfriend|fianc[eé]e?)\s+)$",
    re.IGNORECASE,
)
_SIGN_OFF = re.compile(
    r"^\s*(?:yours(?:\s+\w+)?|kind\s+regards|best\s+regards|regards|best\s+wishes|best|"
    r"many\s+thanks|thanks(?:\s+again)?|thank\s+you|cheers|sincerely|warm\s+regards|"
    r"all\s+the\s+best|ta)\s*[,.!]?\s*$",
    re.IGNORECASE | re.MULTILINE,
)
# Turns of phrase that look like complaints and are not.
_NOT_COMPLAINTS = re.compile(
    r"\b(?:couldn['\u2019]?t\s+have\s+been\s+(?:more|nicer|better)|"
    r"(?:can['\u2019]?t|cannot)\s+(?:thank|praise|recommend)\s+\w+\s+enough|"
    r"not\s+only|no\s+problem|no\s+trouble|nothing\s+(?:was\s+)?too\s+much)\b",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|\n|$)")

# "<Name> at the Leeds store", "<Name> from your complaints team", "<Name> on the tills".
_ROLE_PLACE = re.compile(
    rf"(?P<name>{_NAME})\s+(?:at|from|on|in|with)\s+(?:the\s+|your\s+|their\s+|our\s+)?"
    r"(?:@\w+\s+)?(?P<context>(?:[A-Za-z&'-]+\s+){0,3}?"
    r"(?:team|store|shop|branch|outlet|tills?|checkouts?|desk|counter|line|helpline|phones?|"
    r"chat|live\s+chat|department|call\s+cent(?:re|er)))\b"
)
# "<Name> the engineer", "<Name>, your driver".
_ROLE_TITLE = re.compile(
    rf"(?P<name>{_NAME}),?\s+(?:the|our|your|their|my)\s+(?:@\w+\s+)?"
    r"(?P<context>(?:delivery\s+|installation\s+|repair\s+|store\s+|shop\s+)?"
    r"(?:engineer|driver|installer|technician|fitter|manager|supervisor|assistant|"
    r"advisor|adviser|agent|courier|plumber|electrician))\b"
)
# "<Name> and his partner", "<Name> and her colleague".
_ROLE_PAIR = re.compile(
    rf"(?P<name>{_NAME})\s+and\s+(?:his|her|their)\s+(?:partner|colleague|mate|"
    r"co-?worker|team|crew|helper)\b"
)
# "thank you Callum", "thanks to Raj", "shout out to Liam", "Gary you're a star".
_ADDRESSED = re.compile(
    rf"\b(?i:thank\s*you|thanks|cheers|shout[\s-]?out|credit|kudos|well\s+done)\s+"
    rf"(?i:so\s+much\s+|again\s+)?(?i:to\s+)?(?P<name>{_NAME})\b(?!\s+[A-Z])"
    rf"|\b(?P<name2>{_NAME}),?\s+(?i:you(?:['\u2019]re|\s+are)\s+(?:a\s+|an\s+)?)(?i:star|legend|"
    r"hero|gem|diamond|superstar|the\s+best)"
)
_TEAM = re.compile(
    r"\b(?:the\s+|your\s+|their\s+|our\s+)?(?:@\w+\s+)?"
    r"(?P<kind>delivery|installation|install|engineering|repair|fitting|removals?|"
    r"customer\s+service|social\s+media)\s+"
    r"(?:team|lads|guys|crew|drivers|men|boys|people|folks|staff|engineers)\b"
    r"|\byour\s+(?P<kind2>drivers|engineers|installers|fitters)\b",
    re.IGNORECASE,
)
_PLACE_AFTER = re.compile(rf"^[^.!?\n]{{0,40}}?\b(?:in|at|from)\s+(?P<place>{_NAME})\b")
_THANKS_ONLY = re.compile(r"(?i)thank\s*you|thanks|cheers")
_FOR_HELP = re.compile(
    r"(?i)\bfor\s+(?:all\s+)?(?:your|the|his|her|their)\s+(?:\w+\s+)?"
    r"(?:help|patience|kindness|support|time|efforts?|hard\s+work)\b"
)
_ABOUT_ANSWER = re.compile(
    r"(?i)\b(?:that|this|it)(?:['\u2019]s|\s+is|\s+was)\s+(?:really\s+|very\s+|so\s+|super\s+)?"
    r"(?:helpful|useful|great|brilliant|perfect|good)\b"
)
_ASKS = re.compile(
    r"[?\uff1f]|\b(?:please|can\s+you|could\s+you|would\s+you|will\s+you|i\s+would\s+like|"
    r"i['\u2019]d\s+like|i\s+need|we\s+need|still|when\s+will|how\s+do|how\s+can)\b",
    re.IGNORECASE,
)
_TEAM_WORDS = {
    "drivers": "delivery",
    "install": "installation",
    "removal": "removals",
    "engineers": "engineering",
    "installers": "installation",
    "fitters": "fitting",
}
_PHONE = re.compile(r"\b(?:tele)?phones?\b|\bline\b|\bhelpline\b|\bcall\s+cent", re.I)


@dataclass(frozen=True)
class StaffName:
    """A member of staff as praise may name them."""

    user_id: int
    display_name: str
    team_ids: tuple[int, ...] = ()
    team_names: tuple[str, ...] = ()

    @property
    def first_name(self) -> str:
        return self.display_name.split()[0] if self.display_name.split() else ""


@dataclass(frozen=True)
class Praise:
    """Whom a message praises: a person (or "" for a team or store), what the message says
    of where they work, and what that was matched to."""

    person: str
    context: str = ""
    staff: StaffName | None = None
    store: Store | None = field(default=None, compare=False)
    team: Team | None = field(default=None, compare=False)

    @property
    def text(self) -> str:
        """As a person would write it: "Lindsey (Leeds store)", "delivery team"."""
        if self.person:
            return f"{self.person} ({self.context})" if self.context else self.person
        return self.context


def has_praise_signal(text: str) -> bool:
    """Whether ``text`` has a warm word at all: a cheap test before anything is read."""
    return _PRAISE_IN_LOWER_CASE.search(text.lower()) is not None


def asks_something(text: str) -> bool:
    """Whether the message asks for anything besides passing the praise on."""
    return bool(_ASKS.search(text))


def find_praise(
    text: str,
    *,
    staff_names: Sequence[StaffName] = (),
    stores: Sequence[Store] = (),
    teams: Sequence[Team] = (),
) -> Praise | None:
    """The person, store or team ``text`` praises first, or None."""
    if not has_praise_signal(text):
        return None
    body = _without_sign_off(text)
    sentences = [m.group(0) for m in _SENTENCE.finditer(body) if m.group(0).strip()]
    for n, sentence in enumerate(sentences):
        window = sentence + " " + (sentences[n + 1] if n + 1 < len(sentences) else "")
        if not has_praise_signal(window):
            continue
        if _COMPLAINT.search(_NOT_COMPLAINTS.sub(" ", sentence)):
            continue
        found = _target(sentence, window, staff_names=staff_names, stores=stores, teams=teams)
        if found is not None:
            return found
    return None


def _without_sign_off(text: str) -> str:
    """The text without an email's closing ("Yours sincerely,\\nMargaret Shaw") or a last
    line that is only a name."""
    lines = text.rstrip().splitlines()
    for n in range(len(lines) - 1, max(len(lines) - 5, 0) - 1, -1):
        if n > 0 and _SIGN_OFF.match(lines[n]):
            return "\n".join(lines[:n])
    if len(lines) > 1 and re.fullmatch(rf"\s*{_NAME}(?:\s+{_NAME}){{0,2}}\s*", lines[-1]):
        return "\n".join(lines[:-1])
    return text


def _is_name(name: str, sentence: str, at: int) -> bool:
    return name.lower() not in _NOT_NAMES and not _FAMILY.search(sentence[:at])


def _warm_beyond_thanks(window: str) -> bool:
    """Praise besides the thank-you itself: "for all your help", "really appreciate", "a
    star"; "that's really helpful" is about an answer, not a person."""
    rest = _ABOUT_ANSWER.sub(" ", window)
    return bool(_FOR_HELP.search(rest)) or any(
        not _THANKS_ONLY.fullmatch(m.group(0)) for m in _PRAISE.finditer(rest)
    )


def _target(
    sentence: str,
    window: str,
    *,
    staff_names: Sequence[StaffName],
    stores: Sequence[Store],
    teams: Sequence[Team],
) -> Praise | None:
    candidates: list[tuple[int, Praise]] = []
    for pattern in (_ROLE_PLACE, _ROLE_TITLE, _ROLE_PAIR):
        for m in pattern.finditer(sentence):
            if _is_name(m["name"], sentence, m.start()):
                context = m.groupdict().get("context") or ""
                candidates.append(
                    (m.start(), _person(m["name"], context, staff_names, stores, teams))
                )
    for m in _ADDRESSED.finditer(sentence):
        name = m["name"] or m["name2"]
        at = m.start("name") if m["name"] else m.start("name2")
        # "Thanks Jo, will do" only answers a reply: thanks alone is not praise.
        if _is_name(name, sentence, at) and _warm_beyond_thanks(window):
            candidates.append((at, _person(name, "", staff_names, stores, teams)))
    for member in staff_names:
        for spoken in {member.display_name, member.first_name} - {""}:
            said = re.search(rf"\b{re.escape(spoken)}\b", sentence)
            if (
                said
                and _is_name(member.first_name, sentence, said.start())
                and _warm_beyond_thanks(window)
            ):
                candidates.append((said.start(), _person(spoken, "", [member], stores, teams)))
    if candidates:
        return min(candidates, key=lambda c: c[0])[1]
    team_said = _TEAM.search(sentence)
    if team_said:
        kind = " ".join((team_said["kind"] or team_said["kind2"]).lower().split())
        kind = _TEAM_WORDS.get(kind, kind)
        place = _PLACE_AFTER.match(sentence[team_said.end() :])
        where = place["place"] if place and place["place"].lower() not in _NOT_NAMES else ""
        context = f"{where} {kind} team".strip()
        return Praise(person="", context=context, team=_team_named(kind, teams))
    store = named_store(sentence, stores) if stores else None
    if store is not None:
        where = store.name if store.name == store.city else str(store)
        return Praise(person="", context=f"{where} store", store=store, team=store.team)
    return None


def _person(
    name: str,
    context: str,
    staff_names: Sequence[StaffName],
    stores: Sequence[Store],
    teams: Sequence[Team],
) -> Praise:
    context = " ".join(context.split())
    first = name.split()[0]
    staff = next((s for s in staff_names if s.first_name == first or s.display_name == name), None)
    store = named_store(context, stores) if stores and context else None
    team = store.team if store is not None else _team_named(context, teams)
    if _PHONE.search(context) and not re.search(r"\bteam\b", context, re.I):
        context = "phone support"
    elif re.fullmatch(r"(?i)tills?|checkouts?|counter|desk", context):
        context = context.lower()
    if not context and staff is not None and staff.team_names:
        context = staff.team_names[0]
    return Praise(person=first, context=context, staff=staff, store=store, team=team)


def _team_named(words: str, teams: Sequence[Team]) -> Team | None:
    """The team whose name holds the words that describe it ("complaints team")."""
    key = re.sub(r"(?i)\s*\bteam\b", "", words).strip().lower()
    if not key:
        return None
    return next((t for t in teams if key in t.name.lower()), None)
