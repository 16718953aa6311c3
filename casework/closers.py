"""Customer messages that need no reply, found without a rule: a closing "thanks!", a
reaction, an out-of-office answer, a customer helping another customer.

Such a message stays on the case, with the reason, but starts no response clock and
reopens nothing (``casework.ingest``). A routing rule marking "needs no reply" still
applies first and gives its own reason. Each detector prefers to miss a message (its clock
then runs as usual) to silencing one that asks something.
"""

import re

from cases.models import Message
from channels.email.quoting import split_quoted
from routing.rules import is_closing_thanks, says_thanks

# Only emoji, punctuation and spaces: a thumbs-up, a heart.
_REACTION = re.compile(r"^[\W_]*$")
# Auto-replies a mail client writes into the body without saying so in its headers.
_AWAY = re.compile(
    r"\b(?:out of (?:the )?office|on (?:annual|parental|sick) leave|away from my desk|"
    r"limited access to (?:my )?e-?mail)\b",
    re.IGNORECASE,
)
# Without a word of thanks, only these say the matter is over ("my sofa arrived" may go on
# "... torn").
_ALL_OVER = re.compile(
    r"\b(?:all\s+(?:sorted|good|fixed|fine|done)|working\s+(?:again|now)|back\s+(?:on|up)|"
    r"found\s+it|ignore\s+(?:me|this|my)|no\s+need\s+to\s+(?:reply|respond|answer|get\s+back))\b",
    re.IGNORECASE,
)
# Advice to the other customer: speaking to them, telling them what to do, or what happened
# to the writer once.
_ADVICE = re.compile(
    r"\byou(?:['\u2019]re|r|rs)?\b|(?:^|[.,!;:]\s*|\band\s+|\bthen\s+)"
    r"(?:call|use|try|push|ask|report|contact|complain|ring|email|write|get\s+onto|go\s+to)\b|"
    r"\bhappened\s+to\s+(?:me|my|us|our)\b",
    re.IGNORECASE,
)
# The writer's own trouble, now: they are a customer waiting for an answer too.
_OWN_TROUBLE = re.compile(
    r"\?|\b(?:same\s+here|here\s+too|(?<!to )me\s+too|for\s+us|also|still|can['\u2019]?t|cannot|"
    r"won['\u2019]?t|not\s+working|error|please|can\s+you|could\s+you|whole\s+area)\b",
    re.IGNORECASE,
)


def new_text(message: Message) -> str:
    """What the customer wrote now: an email's new text without its quoted history, and
    without its subject, which in a reply is the old conversation's."""
    if message.channel == "email":
        return split_quoted(message.text)[0]
    return message.text


def no_reply_reason(text: str, *, answers_another_customer: bool, sentiment: str = "") -> str:
    """Why the customer message ``text`` needs no reply from us, or "" when it may.
    ``answers_another_customer``: it replies to someone else's message, not to us;
    ``sentiment``: what ``routing.sentiment`` made of it (an unhappy message always may)."""
    text = text.strip()
    if not text or sentiment == "neg":
        return ""
    if _REACTION.match(text):
        return "Only a reaction."
    if _AWAY.search(text) and len(text) < 600:
        return "An automatic out-of-office answer."
    if is_closing_thanks(text) and (says_thanks(text) or _ALL_OVER.search(text)):
        return "Closes the conversation: thanks, or all is well."
    if answers_another_customer and _ADVICE.search(text) and not _OWN_TROUBLE.search(text):
        return "A customer answering another customer."
    return ""
