"""Dashboards for managers and supervisors: the backlog, the daily flow, response times per
channel and team, agents, the hand-off log, and the cases behind every figure.

Every table is shown, charted and exported as CSV (``?export=<table key>``) from the same
``figures.Table``, so the three never disagree. Charts are drawn by ``static/js/dashboards.js``
from JSON the page embeds with ``json_script``: the CSP allows no inline script.
"""

import csv
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import wraps
from html import escape
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET

from cases import visibility
from cases.models import Case
from reporting import agents as agents_report
from reporting import backlog as backlog_report
from reporting import figures
from reporting import handoffs as handoffs_report
from reporting import kudos as reporting_kudos
from reporting import response_times as times_report
from reporting import satisfaction as satisfaction_report
from reporting import sentiment as sentiment_report
from reporting import service_levels as sla_report
from reporting.cases_behind import cases_behind
from reporting.figures import Cell, Column, Filters, Table
from staff.models import Team

CASES_PER_PAGE = 100
NUMERIC = {"count", "duration", "percent"}
# A charted table longer than this starts folded under its chart.
FOLD_ROWS = 12
DASHBOARD_PERMS = ("cases.view_dashboards", "cases.reassign_case")


def dashboard_viewer_required(view: Callable) -> Callable:
    """Managers, supervisors and admins: ``view_dashboards`` or ``reassign_case``. Anonymous
    visitors are sent to sign in; other users get 403."""

    @wraps(view)
    def check(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not any(request.user.has_perm(perm) for perm in DASHBOARD_PERMS):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return login_required(check)


# Filters.


class FilterForm(forms.Form):
    start = forms.DateField(required=False, label="From", widget=forms.DateInput({"type": "date"}))
    end = forms.DateField(required=False, label="To", widget=forms.DateInput({"type": "date"}))
    team = forms.ChoiceField(required=False, label="Team")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = [  # type: ignore[attr-defined]
            ("", "All teams"),
            (figures.NO_TEAM, "No team"),
            *((str(t.pk), t.name) for t in Team.objects.order_by("name")),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        end = data.get("end") or timezone.localdate()
        start = data.get("start") or end - timedelta(days=figures.DEFAULT_DAYS - 1)
        if start > end:
            raise forms.ValidationError("The range starts after it ends.")
        if (end - start).days >= figures.MAX_DAYS:
            raise forms.ValidationError(f"Choose at most {figures.MAX_DAYS} days.")
        data["start"], data["end"] = start, end
        return data

    def filters(self) -> Filters:
        """The filters asked for; the defaults where they do not validate."""
        if self.is_valid():
            data = self.cleaned_data
            return Filters(data["start"], data["end"], data.get("team") or "")
        team = self.data.get("team", "")
        valid_team = team in dict(self.fields["team"].choices)  # type: ignore[attr-defined]
        return Filters.default(team=team if valid_team else "")


# Tables as shown and exported.


@dataclass(frozen=True)
class ShownTable:
    key: str
    title: str
    note: str
    headers: list[str]
    # Each row's cells as HTML: built here, as a template spends several times longer on
    # the thousands of small cells of a long table.
    rows: list[SafeString]
    csv_url: str
    # (canvas id, caption) of the charts of this table.
    charts: list[tuple[str, str]]
    # Long tables start folded under their chart.
    folded: bool


def _duration_text(seconds: float) -> str:
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def csv_value(cell: Cell, column: Column) -> str:
    """The cell as the CSV holds it: durations in minutes, times in ISO 8601."""
    value = cell.value
    if value is None:
        return ""
    if column.kind == "duration":
        return f"{value / 60:.1f}"
    if column.kind == "percent":
        return f"{value:.1f}"
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _text(cell: Cell, column: Column) -> str:
    value = cell.value
    if cell.text is not None:
        return cell.text
    if value is None:
        return "\N{EN DASH}" if column.kind in ("duration", "percent") else ""
    if column.kind == "count":
        return f"{value:,}"
    if column.kind == "duration":
        return _duration_text(value)
    if column.kind == "percent":
        return f"{value:.1f} %"
    if column.kind == "time":
        return timezone.localtime(value).strftime("%a %d %b %H:%M")
    return str(value)


class Links:
    """Where cells lead: a case, the inbox, the hand-off log, or the cases behind a figure
    under ``filters``.
    Each route is reversed once, not once a cell."""

    # A case id no case has, replaced in the reversed URL by each cell's.
    SENTINEL = 987654321

    def __init__(self, filters: Filters) -> None:
        self.filters = filters.query()
        self.case = reverse("workspace:case-detail", args=[self.SENTINEL])
        self.inbox = reverse("workspace:inbox")
        self.cases = reverse("reporting:dashboard-cases")
        self.log = reverse("reporting:dashboard-handoffs")

    def __call__(self, cell: Cell) -> str | None:
        if cell.case_id is not None:
            return self.case.replace(str(self.SENTINEL), str(cell.case_id))
        if cell.inbox is not None:
            return f"{self.inbox}?{urlencode(cell.inbox)}"
        if cell.log is not None:
            return f"{self.log}?{urlencode({**self.filters, **cell.log})}"
        if cell.selection is not None:
            return f"{self.cases}?{urlencode({**self.filters, **cell.selection})}"
        return None


def _row_html(row: list[Cell], columns: list[Column], link: Links) -> SafeString:
    """``<td>`` elements: the cell's text, linked where it leads somewhere, with its CSV
    value as ``data-value``. The standard library's ``escape`` (quotes included) is a
    fraction of the cost of Django's here, called for every cell."""
    cells = []
    for cell, column in zip(row, columns, strict=True):
        text, url = escape(_text(cell, column)), link(cell)
        content = f'<a href="{escape(url)}">{text}</a>' if url else text
        numeric = ' class="num"' if column.kind in NUMERIC else ""
        cells.append(f'<td data-value="{escape(csv_value(cell, column))}"{numeric}>{content}</td>')
    # Every part is escaped above.
    return mark_safe("".join(cells))


def export_url(request: HttpRequest, key: str) -> str:
    query = request.GET.copy()
    query["export"] = key
    query.pop("page", None)
    return f"{request.path}?{query.urlencode()}"


def show(
    table: Table, filters: Filters, request: HttpRequest, charts: Iterable[dict[str, Any]] = ()
) -> ShownTable:
    link = Links(filters)
    return ShownTable(
        key=table.key,
        title=table.title,
        note=table.note,
        headers=[c.title for c in table.columns],
        rows=[_row_html(row, table.columns, link) for row in table.rows],
        csv_url=export_url(request, table.key),
        charts=[(spec["id"], spec["caption"]) for spec in charts if spec["table"] == table.key],
        folded=len(table.rows) > FOLD_ROWS and any(spec["table"] == table.key for spec in charts),
    )


# What makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """A text cell that a spreadsheet shows as text, never runs: one that starts like a
    formula gets a leading apostrophe, as OWASP recommends. Names and tags come from
    customers and staff, so any of them may be hostile."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def csv_headers(columns: Iterable[Column]) -> list[str]:
    return [f"{c.title} (minutes)" if c.kind == "duration" else c.title for c in columns]


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(
    name: str, filters: Filters, columns: list[Column], rows: Iterable[list[Cell]]
) -> StreamingHttpResponse:
    """A CSV download of the rows, streamed."""
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow([spreadsheet_safe(title) for title in csv_headers(columns)])
        for row in rows:
            yield writer.writerow(
                [
                    spreadsheet_safe(csv_value(cell, col))
                    if col.kind == "text"
                    else csv_value(cell, col)
                    for cell, col in zip(row, columns, strict=True)
                ]
            )

    filename = f"careinbox-{name}-{filters.start}-{filters.end}.csv"
    return StreamingHttpResponse(
        lines(),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _export(
    request: HttpRequest, filters: Filters, tables: list[Table]
) -> HttpResponseBase | None:
    key = request.GET.get("export")
    if key is None:
        return None
    table = next((t for t in tables if t.key == key), None)
    if table is None:
        raise Http404(f"This dashboard has no table {key!r}.")
    return csv_response(key, filters, table.columns, table.rows)


# Charts: drawn by static/js/dashboards.js from the page's JSON.


def chart(
    table: Table,
    *,
    values: list[str],
    label: str | None = None,
    horizontal: bool = False,
    stacked: bool = False,
    kind: str = "bar",
    caption: str = "",
    filters: Filters,
) -> dict[str, Any]:
    """A chart of the table's columns ``values`` against its first column (or ``label``).
    Each point links where its table cell does; durations are charted in hours."""
    label_cells = table.column(label or table.columns[0].title)
    link = Links(filters)
    first = table.columns[0]
    columns = {c.title: c for c in table.columns}
    datasets = []
    for title in values:
        column, cells = columns[title], table.column(title)
        datasets.append(
            {
                "label": title,
                "data": [_chart_value(cell, column) for cell in cells],
                "links": [link(cell) for cell in cells],
            }
        )
    unit = {"duration": "hours", "percent": "%"}.get(columns[values[0]].kind, "cases")
    return {
        "id": f"chart-{table.key}",
        "table": table.key,
        "caption": caption,
        "type": kind,
        "horizontal": horizontal,
        "stacked": stacked,
        "unit": unit,
        "labels": [_text(cell, first) for cell in label_cells],
        "datasets": datasets,
    }


def _chart_value(cell: Cell, column: Column) -> float | None:
    if cell.value is None:
        return None
    if column.kind == "duration":
        return round(cell.value / 3600, 2)
    return cell.value


# Pages.

TABS = [
    ("reporting:dashboards", "Backlog and flow"),
    ("reporting:dashboard-times", "Response times"),
    ("reporting:dashboard-agents", "Agents"),
    ("reporting:dashboard-handoffs", "Hand-offs"),
    ("reporting:dashboard-sla", "Service levels"),
    ("reporting:dashboard-sentiment", "Sentiment"),
    ("reporting:dashboard-satisfaction", "Satisfaction"),
    ("reporting:kudos", "Kudos"),
]


def _page(
    request: HttpRequest,
    template: str,
    form: FilterForm,
    filters: Filters,
    tables: list[Table],
    charts: list[dict[str, Any]],
    **context: Any,
) -> HttpResponse:
    return render(
        request,
        template,
        {
            "form": form,
            "filters": filters,
            "tabs": [(reverse(name), title, name) for name, title in TABS],
            "current": request.resolver_match.view_name if request.resolver_match else "",
            "query": urlencode(filters.query()),
            "tables": [show(t, filters, request, charts) for t in tables],
            "charts": charts,
            "default_days": figures.DEFAULT_DAYS,
            **context,
        },
    )


def _filtered(request: HttpRequest) -> tuple[FilterForm, Filters]:
    """The form as asked, showing the range in force where the query leaves it out."""
    data = request.GET.copy()
    default = Filters.default()
    data.setdefault("end", default.end.isoformat())
    if "start" not in data:
        try:
            end = FilterForm.base_fields["end"].to_python(data["end"]) or default.end
        except ValidationError:  # the form says what is wrong with it
            end = default.end
        data["start"] = (end - timedelta(days=figures.DEFAULT_DAYS - 1)).isoformat()
    form = FilterForm(data)
    filters = form.filters()
    # Managers and supervisors count their teams' cases (cases.visibility); one on every team
    # counts every case, as an admin does, without testing each case's team.
    if visibility.scoped(request.user) and not visibility.sees_every_team(request.user):
        filters = replace(filters, viewer=request.user.pk)
    return form, filters


@require_GET
@dashboard_viewer_required
def backlog(request: HttpRequest) -> HttpResponseBase:
    form, filters = _filtered(request)
    now = timezone.now()
    tables = [*backlog_report.backlog(filters, now=now), backlog_report.flow(filters)]
    if response := _export(request, filters, tables):
        return response
    status, team, channel, age, flow = tables
    charts = [
        chart(status, values=["Cases"], filters=filters),
        chart(team, values=["Cases"], horizontal=True, filters=filters),
        chart(channel, values=["Cases"], horizontal=True, filters=filters),
        chart(age, values=["Cases"], filters=filters),
        chart(flow, values=["Opened", "Resolved"], filters=filters),
    ]
    return _page(
        request, "reporting/dashboard_backlog.html", form, filters, tables, charts, now=now
    )


@require_GET
@dashboard_viewer_required
def response_times(request: HttpRequest) -> HttpResponseBase:
    form, filters = _filtered(request)
    tables = times_report.response_times(filters)
    if response := _export(request, filters, tables):
        return response
    charts = []
    for table in tables:
        for measure in ("First response", "Resolution"):
            spec = chart(
                table,
                values=[f"{measure} p50", f"{measure} p90"],
                caption=f"{measure}, p50 and p90 (hours)",
                filters=filters,
            )
            spec["id"] = f"chart-{table.key}-{measure.split()[0].lower()}"
            charts.append(spec)
    return _page(request, "reporting/dashboard_times.html", form, filters, tables, charts)


@require_GET
@dashboard_viewer_required
def sentiment(request: HttpRequest) -> HttpResponseBase:
    form, filters = _filtered(request)
    tables = [sentiment_report.sentiment(filters)]
    if response := _export(request, filters, tables):
        return response
    return _page(request, "reporting/dashboard_sentiment.html", form, filters, tables, [])


@require_GET
@dashboard_viewer_required
def satisfaction(request: HttpRequest) -> HttpResponseBase:
    form, filters = _filtered(request)
    tables = satisfaction_report.satisfaction(filters)
    if response := _export(request, filters, tables):
        return response
    return _page(request, "reporting/dashboard_satisfaction.html", form, filters, tables, [])


@require_GET
@dashboard_viewer_required
def agents(request: HttpRequest) -> HttpResponseBase:
    form, filters = _filtered(request)
    table = agents_report.agents(filters)
    if response := _export(request, filters, [table]):
        return response
    charts = [
        chart(
            table,
            values=["Holding now", "Taken on", "Handed off", "Received hand-offs"],
            horizontal=True,
            filters=filters,
        )
    ]
    return _page(request, "reporting/dashboard_agents.html", form, filters, [table], charts)


@require_GET
@dashboard_viewer_required
def handoffs(request: HttpRequest) -> HttpResponseBase:
    """Where hand-offs end up, and the log: a page of it, those with one outcome, or a
    random sample of ten for quality review (``sample=new`` picks a seed and redirects, so
    the sample can be shown, shared and exported again)."""
    form, filters = _filtered(request)
    sample_param = request.GET.get("sample")
    if sample_param == "new":
        fresh = request.GET.copy()
        fresh["sample"] = str(secrets.randbelow(1_000_000))
        return redirect(f"{request.path}?{fresh.urlencode()}")
    sample = int(sample_param) if sample_param and sample_param.isdigit() else None
    outcome = request.GET.get("outcome") or None
    if outcome is not None and outcome not in handoffs_report.OUTCOME_LABELS:
        raise Http404(f"No hand-off outcome {outcome!r}.")
    page = request.GET.get("page", "1")
    log = handoffs_report.handoff_log(
        filters, page=int(page) if page.isdigit() else 1, sample=sample, outcome=outcome
    )
    if request.GET.get("export") == log.table.key:
        if sample is not None:
            return csv_response("handoffs-sample", filters, log.table.columns, log.table.rows)
        rows = handoffs_report.all_handoff_rows(filters, outcome)
        return csv_response("handoffs", filters, log.table.columns, rows)
    outcomes = handoffs_report.handoff_outcomes(filters)
    if response := _export(request, filters, [outcomes]):
        return response
    charts = [
        chart(outcomes, values=["Hand-offs"], horizontal=True, filters=filters),
    ]
    base = {**filters.query(), **({"outcome": outcome} if outcome else {})}
    query = urlencode(base)
    return _page(
        request,
        "reporting/dashboard_handoffs.html",
        form,
        filters,
        [outcomes, log.table],
        charts,
        log=log,
        outcome=handoffs_report.OUTCOME_LABELS.get(outcome or ""),
        previous_url=f"?{query}&page={log.page - 1}" if log.page > 1 else "",
        next_url=f"?{query}&page={log.page + 1}" if log.page < log.pages else "",
        sample_url=f"?{query}&sample=new",
        log_url=f"?{query}",
        all_url=f"?{urlencode(filters.query())}",
    )


@require_GET
@dashboard_viewer_required
def service_levels(request: HttpRequest) -> HttpResponseBase:
    form, filters = _filtered(request)
    table = sla_report.sla_attainment(filters)
    if response := _export(request, filters, [table]):
        return response
    met = [column.title for column in table.columns if column.kind == "percent"]
    charts = [
        chart(
            table, values=met, caption="Share of cases that met each target (%)", filters=filters
        )
    ]
    return _page(request, "reporting/dashboard_sla.html", form, filters, [table], charts)


CASE_COLUMNS = [
    Column("Case"),
    Column("Subject"),
    Column("Customer"),
    Column("Channel"),
    Column("Status"),
    Column("Team"),
    Column("Assignee"),
    Column("Opened", "time"),
]


def _case_rows(cases: Iterable[Case], measure: str) -> Iterator[list[Cell]]:
    for case in cases:
        row = [
            Cell(case.pk, text=f"#{case.pk}", case_id=case.pk),
            Cell(case.subject),
            Cell(case.customer.display_name),
            Cell(figures.channel_label(case.first_channel)),
            Cell(case.get_status_display()),
            Cell(case.team.name if case.team else ""),
            Cell(_assignee(case)),
            Cell(case.opened_at),
        ]
        if measure:
            took = case.measure  # type: ignore[attr-defined]
            row.append(Cell(took.total_seconds() if took is not None else None))
        yield row


def _assignee(case: Case) -> str:
    if case.assignee is None:
        return ""
    profile = getattr(case.assignee, "agent_profile", None)
    return profile.display_name if profile else case.assignee.get_username()


@require_GET
@dashboard_viewer_required
def cases(request: HttpRequest) -> HttpResponseBase:
    """The cases behind one figure of a dashboard."""
    form, filters = _filtered(request)
    selection = {
        key: str(request.GET[key])
        for key in request.GET
        if key not in ("start", "end", "team", "page", "export")
    }
    try:
        behind = cases_behind(filters, selection)
    except figures.BadSelection as exc:
        raise Http404(str(exc)) from exc
    columns = [*CASE_COLUMNS, *([Column(behind.measure, "duration")] if behind.measure else [])]
    listed = behind.cases.select_related("customer", "team", "assignee__agent_profile")
    if behind.measure:
        # Every case listed for a time has one (its figure selects the cases that were
        # answered or resolved), so the page comes in the order of the roll-ups' index of it.
        listed = listed.order_by(F("measure").desc(), "-pk")
    else:
        listed = listed.order_by("-opened_at", "-pk")
    if request.GET.get("export") == "cases":
        return csv_response(
            "cases", filters, columns, _case_rows(listed.iterator(), behind.measure)
        )
    paginator = Paginator(listed, CASES_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    table = Table("cases", behind.title, columns, list(_case_rows(page, behind.measure)))
    query = request.GET.copy()
    query.pop("page", None)
    return _page(
        request,
        "reporting/dashboard_cases.html",
        form,
        filters,
        [table],
        [],
        behind=behind,
        selection=selection,
        page=page,
        page_query=query.urlencode(),
    )


@require_GET
@dashboard_viewer_required
def kudos(request: HttpRequest) -> HttpResponseBase:
    """Customers' praise of the last 30 days by person, team and store, with the messages."""
    groups = reporting_kudos.kudos(now=timezone.now())
    return render(
        request,
        "reporting/kudos.html",
        {
            "sections": [
                ("By person", groups["person"]),
                ("By team", groups["team"]),
                ("By store", groups["store"]),
            ],
            "days": reporting_kudos.KUDOS_DAYS,
            "tabs": [(reverse(name), title, name) for name, title in TABS],
            "current": "reporting:kudos",
        },
    )
