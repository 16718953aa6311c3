"""Reading a satisfaction score (1 to 5) from a customer's reply to a survey.

Strict on purpose: only a short reply that is nothing but a rating counts ("5", "5/5",
"4 out of 5", "4 de 5", "⭐⭐⭐⭐", "terrible", "muy bien", "sehr gut", "ممتاز", "最高"), with
at most a word of thanks after it. Anything else ("my order 5 is late", a question, a new
problem) is not an answer and is handled as any customer message is.
"""

import re
import unicodedata

# A reply longer than this is a message, not a rating.
MAX_ANSWER_CHARS = 40

STARS = "⭐★🌟"
EMPTY_STARS = "☆"

# Words of thanks a rating may come with ("5, thanks!").
THANKS = (
    "thanks",
    "thank you",
    "thx",
    "ty",
    "gracias",
    "muchas gracias",
    "merci",
    "merci beaucoup",
    "danke",
    "vielen dank",
    "grazie",
    "obrigado",
    "obrigada",
    "bedankt",
    "dank je",
    "شكرا",
    "شكرا لكم",
    "ありがとう",
    "ありがとうございます",
)

# Words and short phrases that are a rating, by language (the languages customers write in).
WORDS: dict[str, int] = {
    # English
    "terrible": 1,
    "awful": 1,
    "horrible": 1,
    "very bad": 1,
    "very poor": 1,
    "the worst": 1,
    "bad": 2,
    "poor": 2,
    "not good": 2,
    "not great": 2,
    "average": 3,
    "meh": 3,
    "so so": 3,
    "fine": 3,
    "good": 4,
    "pretty good": 4,
    "very good": 5,
    "great": 5,
    "excellent": 5,
    "amazing": 5,
    "perfect": 5,
    "fantastic": 5,
    "brilliant": 5,
    "outstanding": 5,
    # Spanish
    "terrible servicio": 1,
    "pésimo": 1,
    "pesimo": 1,
    "horrible servicio": 1,
    "muy malo": 1,
    "muy mal": 1,
    "malo": 2,
    "mal": 2,
    "regular": 3,
    "más o menos": 3,
    "bien": 4,
    "bueno": 4,
    "muy bien": 5,
    "muy bueno": 5,
    "excelente": 5,
    "genial": 5,
    "perfecto": 5,
    # French
    "nul": 1,
    "très mauvais": 1,
    "mauvais": 2,
    "bof": 3,
    "moyen": 3,
    "correct": 3,
    "bon": 4,
    "très bien": 5,
    "très bon": 5,
    "parfait": 5,
    "génial": 5,
    # German
    "schrecklich": 1,
    "furchtbar": 1,
    "sehr schlecht": 1,
    "schlecht": 2,
    "mittelmäßig": 3,
    "geht so": 3,
    "gut": 4,
    "sehr gut": 5,
    "ausgezeichnet": 5,
    "hervorragend": 5,
    "perfekt": 5,
    "toll": 5,
    "super": 5,
    # Italian, Portuguese, Dutch
    "pessimo": 1,
    "péssimo": 1,
    "ruim": 2,
    "slecht": 2,
    "così così": 3,
    "bene": 4,
    "bom": 4,
    "goed": 4,
    "ottimo": 5,
    "ótimo": 5,
    "eccellente": 5,
    "uitstekend": 5,
    # Arabic
    "سيء جدا": 1,
    "سيئ جدا": 1,
    "سيء": 2,
    "سيئ": 2,
    "مقبول": 3,
    "جيد": 4,
    "جيد جدا": 5,
    "ممتاز": 5,
    "رائع": 5,
    # Japanese
    "最悪": 1,
    "悪い": 2,
    "普通": 3,
    "良い": 4,
    "よかった": 4,
    "最高": 5,
    "素晴らしい": 5,
}

# "5", "5/5", "4 out of 5", "4 de 5", "4 sur 5", "4 von 5", "4 su 5", "4 uit 5", "4 من 5"
# (in any script's digits), "4 stars", "5点", "5つ星", and the same out of 10 ("9/10").
_NUMBER = re.compile(
    r"(?P<n>\d{1,2})\s*"
    r"(?:(?:/|out of|of|de|sur|von|aus|su|di|uit|van|من)\s*(?P<of>\d{1,2})"
    r"|stars?|estrellas?|étoiles?|sterne?|stelle|estrelas?|sterren|نجوم|つ星|点|星)?"
)
# After NFKC, which turns full-width marks into ASCII ones.
_PUNCTUATION = re.compile(r"[\s!.,;:?¡¿…~\-\u2013\u2014()\"'“”«»。、]+")


def read_score(text: str) -> int | None:
    """The score from 1 to 5 that ``text`` gives, or None when it is not a rating alone."""
    text = _without_signature(unicodedata.normalize("NFKC", text).replace("\ufe0f", ""))
    text = text.strip().lower()
    if not text or len(text) > MAX_ANSWER_CHARS:
        return None
    text = _without_thanks(_PUNCTUATION.sub(" ", text).strip())
    if not text:
        return None
    stars = sum(text.count(star) for star in STARS)
    if stars and not text.strip(STARS + EMPTY_STARS + " "):
        return stars if stars <= 5 else None
    if text in WORDS:
        return WORDS[text]
    number = _NUMBER.fullmatch(text)
    if number is None:
        return None
    score, out_of = int(number["n"]), int(number["of"]) if number["of"] else 5
    if out_of == 10 and 0 <= score <= 10:
        return max(1, (score + 1) // 2)
    return score if out_of == 5 and 1 <= score <= 5 else None


def _without_thanks(text: str) -> str:
    """The text without a word of thanks before or after the rating."""
    for thanks in sorted(THANKS, key=len, reverse=True):
        if text.endswith(" " + thanks):
            return text.removesuffix(thanks).strip()
        if text.startswith(thanks + " "):
            return text.removeprefix(thanks).strip()
    return text


# A mail's signature: after the "-- " line (RFC 3676), or a phone's "Sent from my iPhone".
_SIGNATURE = re.compile(r"^(?:-- ?$|sent from my |get outlook for )", re.IGNORECASE | re.MULTILINE)


def _without_signature(text: str) -> str:
    found = _SIGNATURE.search(text)
    return text[: found.start()] if found else text
