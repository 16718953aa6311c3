"""The satisfaction survey page a survey's link opens: public, no sign-in; the link's token
is the only key. It records one answer; a second changes nothing."""

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_http_methods

from casework import surveys


class SurveyForm(forms.Form):
    score = forms.TypedChoiceField(choices=[(n, str(n)) for n in range(1, 6)], coerce=int)
    nps = forms.TypedChoiceField(
        choices=[(n, str(n)) for n in range(11)], coerce=int, required=False, empty_value=None
    )


@require_http_methods(["GET", "POST"])
def survey_page(request: HttpRequest, token: str) -> HttpResponse:
    try:
        survey = surveys.survey_for(token=token)
    except surveys.SurveyNotFound as exc:
        return render(request, "workspace/survey_missing.html", {"reason": exc}, status=404)
    context = {"survey": survey, "nps": settings.CAREINBOX_SURVEY_NPS, "scores": range(1, 6)}
    if request.method == "POST":
        form = SurveyForm(request.POST)
        if not form.is_valid():
            return render(
                request, "workspace/survey_page.html", context | {"form": form}, status=400
            )
        answer = surveys.answer_survey(
            token=token,
            score=form.cleaned_data["score"],
            nps=form.cleaned_data["nps"] if settings.CAREINBOX_SURVEY_NPS else None,
        )
        return render(
            request,
            "workspace/survey_thanks.html",
            {"survey": answer.survey, "already": not answer.recorded},
        )
    if survey.answered_at is not None:
        return render(request, "workspace/survey_thanks.html", {"survey": survey, "already": True})
    return render(request, "workspace/survey_page.html", context | {"form": SurveyForm()})


urlpatterns = [
    path("survey/<str:token>/", survey_page, name="survey"),
]
