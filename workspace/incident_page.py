"""The incident page's volume chart: messages per interval as bars of a server-drawn SVG
(no script, so nothing for the CSP to allow)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

# Bar widths to choose from, the smallest that keeps the chart within MAX_BARS bars.
STEPS = [timedelta(minutes=m) for m in (5, 10, 15, 30, 60, 120, 180, 360, 720, 1440)]
MAX_BARS = 48
WIDTH, HEIGHT = 600, 140
# Room under the bars for the first and last times.
AXIS = 18


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    start: datetime
    count: int


@dataclass(frozen=True)
class VolumeChart:
    bars: list[Bar]
    step_minutes: int
    peak: int
    start: datetime
    end: datetime
    width: int = WIDTH
    height: int = HEIGHT
    plot_height: int = HEIGHT - AXIS


def volume_chart(times: list[datetime]) -> VolumeChart | None:
    """Bars of how many messages came in each interval, from the first to the last; ``None``
    without messages."""
    if not times:
        return None
    first, last = min(times), max(times)
    step = next((s for s in STEPS if (last - first) / s < MAX_BARS), STEPS[-1])
    # Intervals start on a whole multiple of the step in local time ("10:15", "10:30").
    local = timezone.localtime(first)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    start = midnight + step * ((local - midnight) // step)
    counts = [0] * (int((last - start) // step) + 1)
    for at in times:
        counts[int((at - start) // step)] += 1
    peak = max(counts)
    plot = HEIGHT - AXIS
    slot = WIDTH / len(counts)
    bars = [
        Bar(
            x=round(i * slot + slot * 0.1, 1),
            y=round(plot - plot * count / peak, 1),
            width=round(slot * 0.8, 1),
            height=round(plot * count / peak, 1),
            start=start + step * i,
            count=count,
        )
        for i, count in enumerate(counts)
    ]
    return VolumeChart(
        bars=bars,
        step_minutes=int(step.total_seconds() // 60),
        peak=peak,
        start=start,
        end=start + step * len(counts),
    )
