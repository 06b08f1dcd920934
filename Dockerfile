# hedgewatch: the long-running bot. Secrets come from the environment (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HEDGEWATCH_STORAGE_PATH=/data/hedgewatch.db

RUN useradd --create-home --uid 10001 hedgewatch \
    && mkdir -p /data && chown hedgewatch:hedgewatch /data

WORKDIR /app
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

COPY bot.py config.toml pyproject.toml ./
COPY core ./core
COPY plugins ./plugins
COPY storage ./storage
COPY settings ./settings
COPY chat ./chat
COPY jobs ./jobs
COPY backtest ./backtest
COPY runtime ./runtime
COPY i18n ./i18n

USER hedgewatch
VOLUME ["/data"]

HEALTHCHECK --interval=5m --timeout=20s --start-period=10m --retries=3 \
    CMD ["python", "bot.py", "health"]

CMD ["python", "bot.py", "run"]
