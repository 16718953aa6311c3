"""Texts of the timeline as HTML, with their @mentions marked: colleagues named in internal
notes (``@username``) and X handles in customer messages and replies (``@acme_care``).

The text is escaped and its links made first, piece by piece; only then is the mention
markup put between the pieces, so nothing a customer wrote is ever taken as HTML. A mention
links nowhere: a handle is shown as one, not sent to the platform's site.
"""

import re
from collections.abc import Iterable, Mapping

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.template.defaultfilters import linebreaksbr, urlize
from django.utils.html import format_html
from django.utils.safestring import SafeString

from staff.names import display_name

# A mention starts a word: after a space, a bracket or quote, or at the start, so
# an address (jo@example.com) or a link (https://x.com/@jo, ?to=@jo) holds none.
_START = r"(?<![^\s(\[{<>\"'\u201c\u2018])@"
# Usernames as CareInbox accepts them; a full stop, plus or hyphen after one ends the
# sentence, not the name ("ask @jo." names jo), as for the note's notifications.
USERNAME = re.compile(_START + r"([\w.+-]*\w)")
# X handles: up to 15 letters, digits and underscores, and nothing of a word after them.
HANDLE = re.compile(_START + r"([A-Za-z0-9_]{1,15})(?![\w@])")


def mention_html(text: str, *, colleagues: Mapping[str, str] | None = None) -> SafeString:
    """``text`` as the timeline shows it: escaped, links made, line breaks kept, mentions
    marked. With ``colleagues`` (display names by lower-case username: an internal note)
    the ``@username`` of a colleague is marked, titled with their name; without (a customer's
    message or a reply) any X handle is."""
    pattern = HANDLE if colleagues is None else USERNAME
    parts: list[str] = []
    done = 0
    for match in pattern.finditer(text):
        name = match.group(1)
        if colleagues is None:
            mark = format_html('<mark class="mention">@{}</mark>', name)
        elif name.lower() in colleagues:
            mark = format_html(
                '<mark class="mention" title="{}">@{}</mark>', colleagues[name.lower()], name
            )
        else:
            continue
        parts.append(urlize(text[done : match.start()], autoescape=True))
        parts.append(mark)
        done = match.end()
    parts.append(urlize(text[done:], autoescape=True))
    # Every part is escaped or built by format_html: the whole is safe as it stands.
    return linebreaksbr(SafeString("".join(parts)), autoescape=True)


def colleagues_named(texts: Iterable[str]) -> dict[str, str]:
    """The active users ``texts`` name as ``@username`` (any case): their display names by
    lower-case username. One query, none when no text names anyone."""
    names = {m.lower() for text in texts for m in USERNAME.findall(text)}
    if not names:
        return {}
    named = Q()
    for name in names:
        named |= Q(username__iexact=name)
    users = get_user_model().objects.filter(named, is_active=True).select_related("agent_profile")
    return {user.get_username().lower(): display_name(user) for user in users}
