"""Progress bars for the long commands: on standard error, so that what a command writes to
standard output stays clean, and only on a terminal, so that logs and pipes get none."""

import sys
from collections.abc import Iterable, Iterator

from tqdm import tqdm


def progress[T](items: Iterable[T], *, total: int | None, unit: str, desc: str) -> Iterator[T]:
    yield from tqdm(items, total=total, unit=f" {unit}", desc=desc, file=sys.stderr, disable=None)
