"""Production settings: the documented ones pass Django's deployment checks, and HTTPS is
only believed from a proxy header when one is configured."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "a-long-production-secret-key-with-enough-variety-0123456789-XYZ",
    "ALLOWED_HOSTS": "care.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://care.example.com",
    # As .env.example documents them.
    "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
}


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SECURE_")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "careinbox.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_documented_production_settings_pass_check_deploy():
    result = run("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_without_them_check_deploy_warns_of_hsts_and_the_redirect():
    bare = {k: v for k, v in PRODUCTION.items() if not k.startswith("SECURE_")}

    result = run("check", "--deploy", "--fail-level", "WARNING", **bare)

    assert result.returncode != 0
    assert "security.W004" in result.stderr and "security.W008" in result.stderr


def test_a_forwarded_proto_header_is_trusted_only_when_configured():
    probe = (
        "from django.test import RequestFactory; "
        "print(RequestFactory().get('/', HTTP_X_FORWARDED_PROTO='https').is_secure())"
    )
    trusted = run("shell", "--no-imports", "-c", probe, **PRODUCTION)
    untrusted = run(
        "shell", "--no-imports", "-c", probe, **{**PRODUCTION, "SECURE_PROXY_SSL_HEADER": ""}
    )

    assert trusted.stdout.strip() == "True", trusted.stderr
    assert untrusted.stdout.strip() == "False", untrusted.stderr
