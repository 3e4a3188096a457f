# One image for every service of docker-compose.yml: migrate, scheduler, dashboard.
FROM python:3.11.9-slim-bookworm AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    TRACKER_HOME=/var/lib/tracker

RUN groupadd --system tracker && useradd --system --gid tracker --home /app tracker \
    && mkdir -p /var/lib/tracker && chown tracker:tracker /var/lib/tracker

WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY tracker ./tracker
COPY migrations ./migrations
COPY dashboard ./dashboard
RUN pip install --no-compile -e .

USER tracker
EXPOSE 8501
ENTRYPOINT ["tracker"]
CMD ["--help"]
