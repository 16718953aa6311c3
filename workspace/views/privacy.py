"""A customer's privacy requests, for admins: everything held about them as one JSON download,
and their erasure, which a GET only describes and a POST with the customer's number typed in
carries out (``intake.privacy``)."""

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods

from customers.models import Customer
from intake import privacy
from workspace.views.access import eraser_required, exporter_required


class EraseForm(forms.Form):
    confirm = forms.CharField(label="Type the customer's number to confirm", max_length=20)

    def __init__(self, *args, customer_id: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.customer_id = customer_id

    def clean_confirm(self) -> str:
        typed = self.cleaned_data["confirm"].strip()
        if typed != str(self.customer_id):
            raise forms.ValidationError(
                f"Type {self.customer_id}, the customer's number, to erase them; nothing was "
                "erased."
            )
        return typed


def _record(customer_id: int) -> dict:
    try:
        return privacy.export_customer(customer_id=customer_id)
    except Customer.DoesNotExist:
        raise Http404(f"No customer {customer_id}.") from None


@require_GET
@exporter_required
def customer_export(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Everything held about the customer, as a JSON download (bytes as base64)."""
    response = JsonResponse(_record(customer_id), json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="customer-{customer_id}.json"'
    return response


@require_http_methods(["GET", "POST"])
@eraser_required
def customer_erase(request: HttpRequest, customer_id: int) -> HttpResponse:
    """GET: what erasing the customer will remove. POST with ``confirm`` set to the customer's
    number: erase them."""
    record = _record(customer_id)
    posted = request.POST if request.method == "POST" else None
    form = EraseForm(posted, customer_id=record["customer"])
    if request.method == "POST" and form.is_valid():
        erasure = privacy.erase_customer(customer_id=customer_id, by=request.user)  # type: ignore[arg-type]
        messages.success(
            request,
            f"Customer {erasure.customer_id} erased: {erasure.messages} messages, "
            f"{erasure.attachments} attachments and {erasure.quarantined} quarantined "
            f"payloads on {erasure.cases} cases.",
        )
        return redirect("workspace:inbox")
    return render(request, "workspace/customer_erase.html", {"record": record, "form": form})


urlpatterns = [
    path("customers/<int:customer_id>/export/", customer_export, name="customer-export"),
    path("customers/<int:customer_id>/erase/", customer_erase, name="customer-erase"),
]
