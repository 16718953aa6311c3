# syntax=docker/dockerfile:1
# CareInbox production image: gunicorn serving the Django app; the same image runs the
# Celery worker and beat (see docker-compose.yml).
FROM python:3.12-slim

# WEB_CONCURRENCY is gunicorn's worker count: 2-4 per core suits a small host; override it
# at run time for a bigger one.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    WEB_CONCURRENCY=3

# The code stays owned by root; the app user only needs a home for gunicorn's control socket.
RUN groupadd --system careinbox \
    && useradd --system --gid careinbox --create-home --home-dir /home/careinbox \
        --shell /usr/sbin/nologin careinbox

WORKDIR /app

COPY requirements.lock ./
RUN pip install --require-hashes --no-cache-dir -r requirements.lock

COPY . .

# Settings refuse to start without a SECRET_KEY when DEBUG is off; this one exists only for
# this build step and is not kept in the image.
RUN DEBUG=0 SECRET_KEY=collectstatic-build-only python manage.py collectstatic --noinput

USER careinbox

EXPOSE 8000

# Requests come from inside the container, so 127.0.0.1 must be in ALLOWED_HOSTS.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/admin/login/', timeout=4)"]

CMD ["gunicorn", "careinbox.wsgi:application", \
     "--bind", "0.0.0.0:8000", \
     "--worker-tmp-dir", "/dev/shm", \
     "--access-logfile", "-"]
