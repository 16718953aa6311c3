"""The sentiment of a customer message: negative, neutral or positive, found at ingest.

``sentiment(text)`` reads only what the customer wrote now: @mentions, links and an email's
quoted history (``>`` lines and the "On ... wrote:" block below them) are left out first, and
only the opening is read (``MOOD_SAMPLE``).

- **English** (a text's script or common words tell, else ``lingua`` does; a short text it
  gives to another language is read as English when it has an English word, see
  ``is_english``) is scored with VADER,
  a lexicon made for short social text, updated for customer care: faults, outages, waiting
  and chasing are negative ("no internet", "not working", "still waiting", "refund",
  "again"), the politeness of a request ("please", "thanks", "hi") is close to neutral, and
  a fix reported ("sorted", "working again", "ignore me") is positive. A message is
  negative below a compound score of ``NEGATIVE_BELOW`` and positive from
  ``POSITIVE_FROM`` (``POSITIVE_QUESTION_FROM`` for a question: a polite question is not
  praise); a question asked twice over ("??", "?!") counts ``EXASPERATION`` against it.
- **Any other language** is scored on its emoji alone, the one signal that does not depend
  on the language (with VADER's emoji descriptions), and is left unscored ("") when it has
  none that lean either way: an unknown sentiment is never reported as neutral.

It is a heuristic: sarcasm, and complaints told as a plain account of what happened, can
read as neutral.
"""

import re
from functools import cache
from typing import Any

from careinbox.patterns import HintedPattern, WordPattern
from channels.email.quoting import split_quoted
from routing.models import Language
from routing.rules import STOP_WORDS, detect_language

NEGATIVE = "neg"
NEUTRAL = "neu"
POSITIVE = "pos"

# VADER's own band (-0.05, 0.05) suits general text; care messages name faults and ask for
# help even when calm, so the band is wider, and a question is praise only when strongly so.
NEGATIVE_BELOW = -0.25
POSITIVE_FROM = 0.35
POSITIVE_QUESTION_FROM = 0.8

# The languages customers of a European brand are likely to write in. A small set keeps the
# detector's memory and start-up low and its guesses on short texts better.
LANGUAGES = (
    "ENGLISH",
    "SPANISH",
    "FRENCH",
    "GERMAN",
    "ITALIAN",
    "PORTUGUESE",
    "DUTCH",
    "POLISH",
    "JAPANESE",
    "CHINESE",
    "ARABIC",
    "RUSSIAN",
    "TURKISH",
)

# What VADER's lexicon lacks, or weighs otherwise, for customer care (-4 to 4).
CARE_LEXICON = {
    # Faults and outages; the phrases below are read as these words.
    "outage": -2.5,
    "faulty": -2.0,
    "leaking": -1.8,
    "leak": -1.5,
    "tripping": -1.5,
    "overcharged": -2.2,
    "refund": -0.5,
    "chase": -1.2,
    "chasing": -1.5,
    "unacceptable": -2.8,
    "disgraceful": -3.0,
    "shambles": -2.8,
    "nightmare": -2.5,
    "appalling": -3.0,
    "cancelled": -0.8,
    "still": -1.0,
    "nobody": -1.5,
    "nothing": -0.8,
    "slow": -1.2,
    "burning": -1.2,
    "scratched": -1.5,
    "dropped": -1.0,
    "dropping": -1.0,
    "locked": -1.0,
    "without": -0.6,
    "owe": -0.5,
    # "Does anyone actually read these?": in a message to customer care, mostly exasperation.
    "actually": -0.8,
    "third": -0.5,
    "fourth": -0.8,
    "delayed": -1.5,
    "missed": -1.2,
    "again": -0.6,
    "twice": -0.6,
    "waiting": -0.8,
    "wait": -0.5,
    "ignored": -1.8,
    "dead": -1.5,
    "scary": -1.8,
    "broke": -1.8,
    "stopped": -1.0,
    # Politeness of a request, and care-speak, are not praise.
    "please": 0.0,
    "kindly": 0.0,
    "help": 0.3,
    "care": 0.0,
    "support": 0.0,
    "free": 0.5,
    "ok": 0.6,
    "sure": 0.3,
    "like": 0.0,
    "well": 0.0,
    "no": -0.6,
    "sorry": -0.2,
    "lol": 0.0,  # as often wry as amused
    # A fix reported, or a good word for the service.
    "sorted": 2.0,
    "resolved": 1.8,
    "fixed": 1.8,
    "arrived": 1.0,
    "received": 1.0,
    "landed": 1.0,
    "booked": 0.8,
    "finally": 0.5,
    "legend": 2.5,
    "legends": 2.5,
    "spot-on": 2.5,
    "cheers": 1.8,
}

# Emoji read for what they mean in a complaint: laughing and shrugging ones are mostly
# wry, eye-rolls and facepalms annoyed; thumbs up and celebrations approve. VADER reads an
# emoji as its name, so these replace the names.
CARE_EMOJI = {
    "\U0001f602": "",  # face with tears of joy
    "\U0001f605": "",  # grinning face with sweat
    "\U0001f923": "",  # rolling on the floor laughing
    "\U0001f937": "",  # person shrugging
    "\U0001f64f": "",  # folded hands: "please" as often as "thanks"
    "\U0001f643": "annoyed",  # upside-down face
    "\U0001f644": "annoyed",  # face with rolling eyes
    "\U0001f624": "annoyed",  # face with steam from nose
    "\U0001f926": "annoyed",  # person facepalming
    "\U0001f611": "annoyed",  # expressionless face
    "\U0001f621": "angry",  # pouting face
    "\U0001f620": "angry",  # angry face
    "\U0001f44d": "good",  # thumbs up
    "\U0001f64c": "great",  # raising hands
    "\U0001f389": "great",  # party popper
    "\U0001f680": "great",  # rocket
}

# Care phrases VADER cannot read word by word, rewritten to a word of the lexicon above; in
# lower case, searched in lower-cased text. Each starts a word (``WordPattern``).
# The outcome words ("working again") are checked before the fault words ("not working").
CARE_PHRASES: list[tuple[WordPattern | re.Pattern[str], str]] = [
    (WordPattern(p), word)
    for p, word in [
        (r"(?:working|back\s+(?:on|up)(?:\s+now)?)\s+(?:again|now)\b", "sorted"),
        (r"(?:back\s+on(?:line)?|up\s+and\s+running)\b", "sorted"),
        (
            r"no\s+(?:internet|broadband|wi-?fi|signal|service|connection|power|"
            r"dial\s*tone|tv|picture|sound|heat|hot\s+water|response|reply|answer|"
            r"one\s+(?:answers|replies|called))\b",
            "outage",
        ),
        (r"(?:is|are|been|went|goes|gone|still)\s+(?:down|offline)\b", "outage"),
        (r"(?:not|isn't|aren't|stopped|never)\s+(?:working|heating)\b", "faulty"),
        (r"(?:doesn't|does\s+not|won't|didn't|never)\s+work\b", "faulty"),
        (r"(?:still|keep|kept)\s+(?:waiting|no|not|hasn't|haven't)\b", "delayed"),
        (r"(?:on\s+hold|cut\s+off|rings?\s+out|hung\s+up)\b", "ignored"),
        (r"(?:taken|charged|took\s+\S+\s+payment)\s+twice\b", "overcharged"),
        (r"(?:no|not\s+a)\s+(?:problem|worries)\b", "fine"),
        (r"(?:ignore\s+(?:me|this|my\s+\w+)|found\s+it|no\s+need\s+to\s+reply)\b", "sorted"),
        (
            r"(?:broadband|internet|wi-?fi|line|network|service|site|website|app|checkout|"
            r"payment\s+system|power|phones?|area)(?:'s|\s+is|\s+has)?\s+(?:just\s+)?"
            r"(?:down|gone|off|out)\b",
            "outage",
        ),
        (
            r"(?:won'?t|can'?t|cannot|couldn'?t|doesn'?t|"
            r"does\s+not|isn'?t|keeps?)\s+(?:let|take|load|drain|heat|spin|connect|pay|attach|"
            r"log\s+in|be\s+right|reach|"
            r"get\s+warm|turn\s+on|restarting|dropping|crashing|saying)\b",
            "faulty",
        ),
        (r"every\s+(?:time|day|night|evening|morning|week)\b", "again"),
        # Waiting told as a length of time: "for 8 days", "another week", "weeks now".
        (
            r"(?:for|after|another|over)\s+(?:\w+\s+)?(?:hours|days|weeks|months|week|month)\b"
            r"|(?:hours|days|weeks|months)\s+(?:now|later|on)\b",
            "delayed",
        ),
        # Thanks for a reply, as the opening of the next message, is politeness, not praise.
        (
            r"(?:thanks|thank\s+you)\s+for\s+(?:the|your)\s+(?:quick\s+|kind\s+)?"
            r"(?:reply|response|answer|call|dm|message|email|explaining|getting\s+back)\b",
            "ok",
        ),
        (r"(?:nothing\s+back|no\s+(?:updates?|call|text|one|show)|no-show)\b", "ignored"),
    ]
] + [
    # "Same here", "same in Leeds": another customer with the same fault.
    (re.compile(r"^\s*(?:yep,?\s+)?same\s+(?:here|in|with|for|problem|issue)\b"), "problem"),
]

# The same, case-blind, for a text whose lower case is not as long (``_care_words``).
_CARE_PHRASES_ANY_CASE = [(re.compile(p.pattern, re.IGNORECASE), w) for p, w in CARE_PHRASES]

_QUOTED_LINE = re.compile(r"^\s*>.*$", re.MULTILINE)
_MENTION = re.compile(r"(?<!\w)@\w+")
_LINK = HintedPattern(
    r"https?://\S+|www\.\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|co\.uk|example)\S*",
    hint=r"://|www\.|\.(?:com|net|org|co\.uk|example)",
)
# Pictographs, dingbats and symbols: what emoji are made of (skin tones and joiners follow).
_EMOJI = re.compile(r"[\u2600-\u27bf\U0001f300-\U0001faff]")
_QUESTION = re.compile(r"[?\uff1f\u00bf\u061f]")
# "Which one is it??", "What?!": a question asked twice over is asked in exasperation.
_EXASPERATED = re.compile(r"[?\uff1f][?!\uff1f]|![?\uff1f]")
EXASPERATION = 0.3
_LETTERS = re.compile(r"[^\W\d_]")
# Below this many letters a detector's guess is weak: an English word overrules it.
SHORT_TEXT_LETTERS = 25
# A message's mood is read in its opening, this many characters of what the customer wrote
# now: the rest of a long mail or a pasted log (a router's, an order's confirmation) adds
# time, and words that are the log's rather than the customer's.
MOOD_SAMPLE = 2000
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")
ENGLISH_WORDS = STOP_WORDS[Language.ENGLISH]


def clean(text: str) -> str:
    """What the customer wrote now, without quoted history, @mentions or links."""
    text = split_quoted(text)[0]
    text = _QUOTED_LINE.sub("", text)
    text = _MENTION.sub(" ", text)
    return _LINK.sub(" ", text).strip()


@cache
def _detector() -> Any:
    """The language detector, built once per process on first use."""
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(
        *(getattr(Language, name) for name in LANGUAGES)
    ).build()


@cache
def _analyzer() -> Any:
    """VADER with the care lexicon, built once per process on first use."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    class Analyzer(SentimentIntensityAnalyzer):
        """VADER lower-cases every word of the text for each word it checks for negation or
        an idiom, where it reads only the words around the ith: handed just those, a long
        text costs linear time instead of quadratic. (It checks from the fourth word on;
        before that the whole text goes, as it reads the end for a negative index.)"""

        @staticmethod
        def _negation_check(valence, words_and_emoticons, start_i, i):  # type: ignore[no-untyped-def]
            if i >= 3:
                words_and_emoticons, i = words_and_emoticons[i - 3 : i + 1], 3
            return SentimentIntensityAnalyzer._negation_check(
                valence, words_and_emoticons, start_i, i
            )

        @staticmethod
        def _special_idioms_check(valence, words_and_emoticons, i):  # type: ignore[no-untyped-def]
            if i >= 3:
                words_and_emoticons, i = words_and_emoticons[i - 3 : i + 3], 3
            return SentimentIntensityAnalyzer._special_idioms_check(
                valence, words_and_emoticons, i
            )

    analyzer = Analyzer()
    analyzer.lexicon.update(CARE_LEXICON)
    analyzer.emojis.update(CARE_EMOJI)
    return analyzer


def is_english(text: str) -> bool:
    """Whether ``text`` is English, or unclear enough to read as English. A short text is
    another language's only when the detector says so and none of its words is an English
    one VADER or the common-word list knows ("Merci !" is French; "Ta", "lol" are English)."""
    if not _LETTERS.search(text):
        return True
    # Mostly in a script of its own, or two or more common words of one language and more
    # than of any other: that language, without the detector's cost (most of a message's
    # sentiment time).
    language = detect_language(text)
    if language:
        return language == Language.ENGLISH
    short = len(_LETTERS.findall(text)) < SHORT_TEXT_LETTERS and not _has_other_script(text)
    if short and _has_english_word(text):
        return True  # whatever the detector would say
    detected = _detector().detect_language_of(text)
    return detected is None or detected.name == "ENGLISH"


def _has_english_word(text: str) -> bool:
    words = {w.lower() for w in _WORD.findall(text)}
    return any(w in ENGLISH_WORDS or w in _analyzer().lexicon for w in words)


def _has_other_script(text: str) -> bool:
    return any(ch.isalpha() and not ch.isascii() and ord(ch) > 0x24F for ch in text)


def _label(compound: float, *, question: bool = False) -> str:
    if compound < NEGATIVE_BELOW:
        return NEGATIVE
    if compound >= (POSITIVE_QUESTION_FROM if question else POSITIVE_FROM):
        return POSITIVE
    return NEUTRAL


def _care_words(text: str) -> str:
    """The text with its care phrases rewritten (``CARE_PHRASES``), its other words' case kept
    for VADER. The phrases are found in the lower-cased text, where a search is several times
    faster than a case-blind one, whenever lower-casing keeps every letter's position."""
    text = text.replace("\u2019", "'")  # the phrases are written with straight apostrophes
    lowered = text.lower()
    if len(lowered) != len(text):  # a letter whose lower case is two
        for any_case, word in _CARE_PHRASES_ANY_CASE:
            text = any_case.sub(f" {word} ", text)
        return text
    for pattern, word in CARE_PHRASES:
        spans = [match.span() for match in pattern.finditer(lowered)]
        if spans:
            pieces, last = [], 0
            for start, end in spans:
                pieces += [text[last:start], f" {word} "]
                last = end
            text = "".join([*pieces, text[last:]])
            lowered = text.lower()
    return text


def sentiment(text: str) -> str:
    """ "neg", "neu" or "pos" for what the customer wrote; "" when it cannot be told (a
    message in another language without emoji that lean either way, or no text at all)."""
    text = clean(text)[:MOOD_SAMPLE]
    if not text:
        return ""
    if is_english(text):
        compound = _analyzer().polarity_scores(_care_words(text))["compound"]
        if _EXASPERATED.search(text):
            compound -= EXASPERATION
        return _label(compound, question=_QUESTION.search(text) is not None)
    emoji = " ".join(_EMOJI.findall(text))
    if not emoji:
        return ""
    compound = _analyzer().polarity_scores(emoji)["compound"]
    return POSITIVE if compound > 0 else NEGATIVE if compound < 0 else ""
