"""Reading a brand's mailbox: over IMAP, or from a local Maildir (the embedded default).

Account settings: ``mailbox`` ("maildir" or "imap"), ``maildir`` (its path), ``imap_host``,
``imap_port``, ``imap_ssl``, ``imap_folder`` (default INBOX), ``sent_folder`` (default Sent),
``address`` (the brand's own address), ``timeout`` (seconds, default 10) and ``page_size``
(mails per page, default 25); credentials ``imap_username`` and ``imap_password``.
"""

import base64
import imaplib
import json
import os
import re
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

from channels.email.normaliser import from_address, parse_headers, stamp_delivery_time
from channels.errors import FetchError
from channels.models import ChannelAccount
from channels.plug import FetchedPage

DEFAULT_TIMEOUT = 10.0
DEFAULT_PAGE_SIZE = 25
DEFAULT_FOLDER = "INBOX"
DEFAULT_SENT_FOLDER = "Sent"


def poll(account: ChannelAccount) -> Iterator[FetchedPage]:
    """New mail since the account's cursors, oldest first, one page at a time.

    Mail from the brand's own address (its replies, copied back in) is skipped. Raises
    ``FetchError`` when the mailbox cannot be read, including a refused IMAP login.
    """
    mailbox = account.settings.get("mailbox") or "maildir"
    if mailbox == "imap":
        return _poll_imap(account)
    if mailbox == "maildir":
        return _poll_maildir(account)
    raise FetchError(f"Email account {account.name!r} has unknown mailbox type {mailbox!r}.")


# Maildir -------------------------------------------------------------------------------------
#
# The cursor "maildir_read" lists the mails of new/ that the last poll handed over. Only once
# the page naming them is stored can they leave new/, so each poll first moves the mails of the
# stored cursor to cur/ (marked seen), then reads what is left in new/. A crash before a page is
# stored leaves its mails in new/ to be read again; the Message-ID makes that harmless.


def maildir_root(account: ChannelAccount) -> Path:
    """The account's Maildir; raises ``FetchError`` when the setting names none."""
    root = Path(account.settings.get("maildir") or "")
    if not (root / "new").is_dir() or not (root / "cur").is_dir():
        raise FetchError(f"{root} is not a Maildir (no new/ and cur/); check the maildir setting.")
    return root


def _poll_maildir(account: ChannelAccount) -> Iterator[FetchedPage]:
    root = maildir_root(account)
    stored = _stored_names(account)
    try:
        for name in stored:
            _mark_read(root, name)
        names = sorted(
            (n for n in os.listdir(root / "new") if not n.startswith(".") and n not in stored),
            key=_delivery_order,
        )
    except OSError as exc:
        raise FetchError(f"Cannot read Maildir {root}: {exc}") from exc
    if not names and stored:
        yield FetchedPage(payloads=[], cursors={"maildir_read": "[]"})
    address = _own_address(account)
    size = _page_size(account)
    for start in range(0, len(names), size):
        payloads = []
        for name in names[start : start + size]:
            raw = _read_new(root, name)
            if raw is not None and not is_own_mail(raw, address):
                payloads.append(raw)
        handed_over = names[: start + size]
        yield FetchedPage(payloads=payloads, cursors={"maildir_read": json.dumps(handed_over)})


def _stored_names(account: ChannelAccount) -> set[str]:
    try:
        names = json.loads(account.poll_cursors.get("maildir_read") or "[]")
    except json.JSONDecodeError:
        names = []
    return {n for n in names if isinstance(n, str) and "/" not in n and not n.startswith(".")}


def _mark_read(root: Path, name: str) -> None:
    # Maildir's convention for a mail that has been seen: cur/<unique name>:2,S. One already
    # gone was moved by an earlier poll that crashed before storing its cursor.
    with suppress(FileNotFoundError):
        os.rename(root / "new" / name, root / "cur" / f"{name.split(':')[0]}:2,S")


def _read_new(root: Path, name: str) -> bytes | None:
    path = root / "new" / name
    try:
        raw = path.read_bytes()
        delivered_at = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except FileNotFoundError:
        return None  # taken away since the listing
    except OSError as exc:
        raise FetchError(f"Cannot read mail {name} in Maildir {root}: {exc}") from exc
    return stamp_delivery_time(raw, delivered_at)


def _delivery_order(name: str) -> tuple[int, str]:
    # Maildir names start with the delivery time in seconds ("1730538465.M12P3.host").
    seconds = re.match(r"\d+", name)
    return (int(seconds.group()) if seconds else 0, name)


# IMAP ----------------------------------------------------------------------------------------
#
# Cursors "uidvalidity" and "last_uid": UIDs only grow within one UIDVALIDITY, so each poll
# asks for UIDs above the last one stored. A new UIDVALIDITY (the server rebuilt or replaced the
# folder) means the old UIDs say nothing: the folder is read again from the start, and
# Message-IDs make the mails already stored duplicates that ingest ignores.


def _poll_imap(account: ChannelAccount) -> Iterator[FetchedPage]:
    folder = account.settings.get("imap_folder") or DEFAULT_FOLDER
    with imap_session(account) as imap:
        uidvalidity = select_folder(imap, folder)
        last_uid = 0
        if account.poll_cursors.get("uidvalidity") == uidvalidity:
            last_uid = int(account.poll_cursors.get("last_uid") or 0)
        uids = search_uids(imap, f"UID {last_uid + 1}:*")
        # "n:*" always matches the newest message, even when its UID is below n (RFC 3501).
        uids = [uid for uid in uids if uid > last_uid]
        if not uids and account.poll_cursors.get("uidvalidity") != uidvalidity:
            yield FetchedPage(payloads=[], cursors={"uidvalidity": uidvalidity, "last_uid": "0"})
        address = _own_address(account)
        size = _page_size(account)
        for start in range(0, len(uids), size):
            page = uids[start : start + size]
            payloads = [raw for raw in _fetch(imap, page) if not is_own_mail(raw, address)]
            cursors = {"uidvalidity": uidvalidity, "last_uid": str(page[-1])}
            yield FetchedPage(payloads=payloads, cursors=cursors)


@contextmanager
def imap_session(account: ChannelAccount) -> Iterator[imaplib.IMAP4]:
    """A logged-in IMAP connection to the account's server; IMAP and network failures inside
    the block become ``FetchError``."""
    settings, credentials = account.settings, account.credentials
    use_ssl = bool(settings.get("imap_ssl"))
    host = settings.get("imap_host") or ""
    port = int(settings.get("imap_port") or (993 if use_ssl else 143))
    timeout = float(settings.get("timeout") or DEFAULT_TIMEOUT)
    where = f"IMAP server {host}:{port}"
    try:
        if use_ssl:
            imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                host, port, ssl_context=ssl.create_default_context(), timeout=timeout
            )
        else:
            imap = imaplib.IMAP4(host, port, timeout=timeout)
    except (OSError, imaplib.IMAP4.error) as exc:
        raise FetchError(f"Cannot connect to {where}: {exc}") from exc
    try:
        user = credentials.get("imap_username") or ""
        try:
            imap.login(user, credentials.get("imap_password") or "")
        except imaplib.IMAP4.error as exc:
            raise FetchError(
                f"{where} refused the login of {user!r} ({_text(exc)}); check the account's "
                "imap_username and imap_password."
            ) from exc
        yield imap
    except (OSError, imaplib.IMAP4.error) as exc:
        raise FetchError(f"Reading from {where} failed: {_text(exc)}") from exc
    finally:
        with suppress(OSError, imaplib.IMAP4.error):  # the session is over either way
            imap.logout()


def select_folder(imap: imaplib.IMAP4, folder: str) -> str:
    """Open a folder read-only (nothing gets marked as seen); returns its UIDVALIDITY."""
    status, data = imap.select(mailbox_name(folder), readonly=True)
    if status != "OK":
        raise FetchError(f"IMAP folder {folder!r} cannot be opened: {_text(data)}")
    _, validity = imap.response("UIDVALIDITY")
    if not validity or validity[0] is None:
        raise FetchError(f"IMAP folder {folder!r} reports no UIDVALIDITY.")
    return _text(validity[0])


def search_uids(imap: imaplib.IMAP4, *criteria: str) -> list[int]:
    """UIDs in the selected folder matching an IMAP SEARCH, ascending."""
    status, data = imap.uid("SEARCH", *criteria)
    if status != "OK":
        raise FetchError(f"IMAP SEARCH {' '.join(criteria)} failed: {_text(data)}")
    found = b" ".join(d for d in data if isinstance(d, bytes))
    return sorted(int(uid) for uid in found.split())


def _fetch(imap: imaplib.IMAP4, uids: list[int]) -> list[bytes]:
    """The raw mails of these UIDs, in UID order; one expunged meanwhile is simply absent."""
    status, data = imap.uid("FETCH", ",".join(map(str, uids)), "(UID INTERNALDATE BODY.PEEK[])")
    if status != "OK":
        raise FetchError(f"IMAP FETCH of UIDs {uids[0]}..{uids[-1]} failed: {_text(data)}")
    mails: dict[int, bytes] = {}
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            uid = re.search(rb"UID (\d+)", item[0])
            if uid:
                mails[int(uid.group(1))] = _stamped(item[0], item[1])
    return [mails[uid] for uid in uids if uid in mails]


def _stamped(meta: bytes, raw: bytes) -> bytes:
    internal = re.search(rb'INTERNALDATE "([^"]+)"', meta)
    if not internal:
        return raw
    try:
        delivered_at = datetime.strptime(internal.group(1).decode(), "%d-%b-%Y %H:%M:%S %z")
    except ValueError:
        return raw
    return stamp_delivery_time(raw, delivered_at)


def mailbox_name(name: str) -> str:
    """A folder name as an IMAP quoted string, in IMAP's modified UTF-7 (RFC 3501 5.1.3)."""
    encoded: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            chunk = base64.b64encode("".join(pending).encode("utf-16-be")).decode()
            encoded.append("&" + chunk.rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for ch in name:
        if " " <= ch <= "~":
            flush()
            encoded.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    quoted = "".join(encoded).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{quoted}"'


def _text(value: object) -> str:
    if isinstance(value, imaplib.IMAP4.error) and value.args:
        value = value.args[0]  # imaplib puts the server's answer, as bytes, in its errors
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, list):
        return " ".join(_text(v) for v in value)
    return str(value)


# Both ----------------------------------------------------------------------------------------


def is_own_mail(raw: bytes, address: str) -> bool:
    """Whether a mail comes from the brand's own address (its reply, copied back in)."""
    if not address:
        return False
    return from_address(parse_headers(raw)) == address


def _own_address(account: ChannelAccount) -> str:
    return (account.settings.get("address") or "").strip().lower()


def _page_size(account: ChannelAccount) -> int:
    return max(1, int(account.settings.get("page_size") or DEFAULT_PAGE_SIZE))
