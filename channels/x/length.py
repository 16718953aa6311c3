"""How long X says a text is, and whether X would accept it as a reply.

Tweets follow twitter-text's v3 configuration (https://github.com/twitter/twitter-text, the
``config/v3.json`` rules X applies on creation): after NFC normalisation, each code point in the
Latin, punctuation and common-symbol ranges counts 1, any other counts 2, each emoji sequence
counts 2 and each URL counts 23 (what its t.co link will be), against a maximum of 280.
Direct messages allow 10,000 characters.
"""

import re
import unicodedata

from channels.errors import PermanentSendError

MAX_TWEET_LENGTH = 280
MAX_DM_LENGTH = 10_000
URL_LENGTH = 23

# Code points that count 1; everything else counts 2 (CJK, most symbols, emoji).
_LIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))

# Top-level domains X links without a scheme: common generic ones and every country's.
_GENERIC_TLDS = (
    "com|net|org|edu|gov|mil|int|info|biz|name|pro|aero|asia|cat|coop|jobs|mobi|museum|tel|"
    "travel|app|dev|page|blog|shop|store|online|site|website|tech|xyz|club|live|news|media|"
    "email|cloud|design|art|agency|digital|world|today|top|space|link|help|support|social"
)
_COUNTRY_TLDS = (
    "ac|ad|ae|af|ag|ai|al|am|ao|aq|ar|as|at|au|aw|ax|az|ba|bb|bd|be|bf|bg|bh|bi|bj|bm|bn|"
    "bo|bq|br|bs|bt|bw|by|bz|ca|cc|cd|cf|cg|ch|ci|ck|cl|cm|cn|co|cr|cu|cv|cw|cx|cy|cz|de|"
    "dj|dk|dm|do|dz|ec|ee|eg|er|es|et|eu|fi|fj|fk|fm|fo|fr|ga|gb|gd|ge|gf|gg|gh|gi|gl|gm|"
    "gn|gp|gq|gr|gs|gt|gu|gw|gy|hk|hm|hn|hr|ht|hu|id|ie|il|im|in|io|iq|ir|is|it|je|jm|jo|"
    "jp|ke|kg|kh|ki|km|kn|kp|kr|kw|ky|kz|la|lb|lc|li|lk|lr|ls|lt|lu|lv|ly|ma|mc|md|me|mg|"
    "mh|mk|ml|mm|mn|mo|mp|mq|mr|ms|mt|mu|mv|mw|mx|my|mz|na|nc|ne|nf|ng|ni|nl|no|np|nr|nu|"
    "nz|om|pa|pe|pf|pg|ph|pk|pl|pm|pn|pr|ps|pt|pw|py|qa|re|ro|rs|ru|rw|sa|sb|sc|sd|se|sg|"
    "sh|si|sk|sl|sm|sn|so|sr|ss|st|su|sv|sx|sy|sz|tc|td|tf|tg|th|tj|tk|tl|tm|tn|to|tr|tt|"
    "tv|tw|tz|ua|ug|uk|us|uy|uz|va|vc|ve|vg|vi|vn|vu|wf|ws|ye|yt|za|zm|zw"
)
_TLD = f"{_GENERIC_TLDS}|{_COUNTRY_TLDS}"

# A URL as twitter-text finds one: not glued to a word, a mention, a cashtag or a hashtag; an
# optional scheme; a host ending in a known top-level domain; then port, path and query.
_URL = re.compile(
    r"(?<![A-Za-z0-9@\uff20$#\uff03])"
    r"(?P<scheme>https?://)?"
    r"(?P<host>(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?P<tld>" + _TLD + r"))(?![a-z0-9@+_-])"
    r"(?::[0-9]+)?"
    r"(?P<rest>[/?][^\s]*)?",
    re.IGNORECASE,
)
_URL_TRAILING_PUNCTUATION = ".,;:!?'\")]}"

_EMOJI_BASE = (
    "[\u00a9\u00ae]\ufe0f"  # (c) and (R) are emoji only in emoji presentation
    "|[0-9#*]\ufe0f?\u20e3"  # keycaps
    "|[\U0001f1e6-\U0001f1ff]{2}"  # flags
    "|[\u203c\u2049\u2122\u2139\u2194-\u21ff\u2300-\u23ff\u24c2\u25a0-\u27bf\u2900-\u297f"
    "\u2b00-\u2bff\u3030\u303d\u3297\u3299\U0001f000-\U0001faff]"
)
# Variation selectors, skin tones and tag sequences belong to the emoji before them.
_EMOJI_MODIFIERS = "(?:\ufe0f|[\U0001f3fb-\U0001f3ff]|[\U000e0020-\U000e007f])*"
_EMOJI = re.compile(
    f"(?:{_EMOJI_BASE}){_EMOJI_MODIFIERS}(?:\u200d(?:{_EMOJI_BASE}){_EMOJI_MODIFIERS})*"
)


class ReplyTooLong(PermanentSendError):
    """X would refuse this reply for its length; the message says by how much."""

    def __init__(self, length: int, limit: int, *, what: str = "reply") -> None:
        super().__init__(
            f"This {what} is {length:,} of {limit:,} characters on X; "
            f"shorten it by {length - limit:,}."
        )
        self.length = length
        self.limit = limit


def weighted_length(text: str) -> int:
    """The length X counts for a tweet's text (twitter-text v3)."""
    text = unicodedata.normalize("NFC", text)
    urls = dict(url_spans(text))
    emoji = {m.start(): m.end() for m in _EMOJI.finditer(text)}
    length = 0
    index = 0
    while index < len(text):
        if index in urls:
            length += URL_LENGTH
            index = urls[index]
        elif index in emoji:
            length += 2
            index = emoji[index]
        else:
            length += _char_weight(text[index])
            index += 1
    return length


def reply_length(text: str, *, channel: str) -> tuple[int, int]:
    """(length, limit) of ``text`` as X counts it on ``channel``: a reply tweet
    (``x.mention``) by twitter-text's weights, a direct message (``x.dm``) in characters."""
    if channel == "x.dm":
        return len(unicodedata.normalize("NFC", text)), MAX_DM_LENGTH
    return weighted_length(text), MAX_TWEET_LENGTH


def validate_reply_text(text: str, *, channel: str = "x.mention") -> None:
    """Raise ``ReplyTooLong`` if X would refuse ``text`` (signature included) on ``channel``
    (``x.mention``, ``x.dm``, or ``x.post`` for a tweet answering no one)."""
    length, limit = reply_length(text, channel=channel)
    if length > limit:
        what = {"x.dm": "direct message", "x.mention": "reply"}.get(channel, "post")
        raise ReplyTooLong(length, limit, what=what)


def url_spans(text: str) -> list[tuple[int, int]]:
    """Where X sees URLs in ``text`` (already NFC), as (start, end) indices."""
    spans = []
    for match in _URL.finditer(text):
        start, end = match.span()
        rest = match.group("rest") or ""
        if not match.group("scheme"):
            # Without a scheme, "x.y" after a dot, slash or dash is part of something else, and
            # a bare "name.cc" (one label, a country domain, no path) is not taken for a link.
            if start and text[start - 1] in "-_./":
                continue
            host = match.group("host")
            tld = match.group("tld").lower()
            one_label = host.count(".") == 1
            country = len(tld) == 2
            if one_label and not rest and country and tld not in ("co", "tv"):
                continue
        if rest:
            end -= len(rest) - len(rest.rstrip(_URL_TRAILING_PUNCTUATION))
        spans.append((start, end))
    return spans


def _char_weight(char: str) -> int:
    code = ord(char)
    return 1 if any(low <= code <= high for low, high in _LIGHT_RANGES) else 2
