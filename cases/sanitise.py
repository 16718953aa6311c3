"""Making customer HTML safe to show to agents."""

import nh3

# No script, event handler or javascript: URL survives; images may only be inline parts of
# the mail (cid:), so opening a message never tells a sender it was read.
ALLOWED_URL_SCHEMES = {"http", "https", "mailto", "cid"}


def sanitise_html(html: str) -> str:
    if not html:
        return ""
    return nh3.clean(
        html,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        attribute_filter=_drop_remote_images,
    )


def _drop_remote_images(element: str, attribute: str, value: str) -> str | None:
    if element == "img" and attribute == "src" and not value.startswith("cid:"):
        return None
    return value
