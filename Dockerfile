# Ambtenaar Online: one image for the web process (and, once federation lands, the delivery worker).
#
#   docker build -t ambtenaar-online .
#   docker run -e DATABASE_URL=postgresql://user:pass@db/ambtenaar -e AMBTENAAR_DOMAIN=example.org \
#              -e AMBTENAAR_SCHEME=https -p 127.0.0.1:8000:8000 ambtenaar-online
#
# docker-compose.yml shows the whole setup with PostgreSQL; docs/deployment.md explains it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# The node runs as an ordinary user. Its data dir holds the secret key (and, only without DATABASE_URL, an
# embedded PostgreSQL, which is not meant for production).
RUN groupadd --system --gid 10001 ambtenaar \
 && useradd --system --uid 10001 --gid ambtenaar --home-dir /var/lib/ambtenaar --shell /usr/sbin/nologin ambtenaar \
 && install -d -o ambtenaar -g ambtenaar -m 0700 /var/lib/ambtenaar

# .dockerignore keeps tests, docs, local data and VCS metadata out of the build context.
WORKDIR /usr/src/ambtenaar
COPY . .
RUN python -m pip install . \
 && cd / && rm -rf /usr/src/ambtenaar

USER ambtenaar
WORKDIR /var/lib/ambtenaar
ENV AMBTENAAR_DATA_DIR=/var/lib/ambtenaar

EXPOSE 8000

# Liveness only (/healthz: the process answers). There is no curl in the slim image, so Python asks.
# It follows AMBTENAAR_PORT, and uses https when AMBTENAAR_TLS_CERT is set (certificate not verified: loopback).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, ssl, sys, urllib.request as u; tls = bool(os.environ.get('AMBTENAAR_TLS_CERT')); url = ('https' if tls else 'http') + '://127.0.0.1:' + os.environ.get('AMBTENAAR_PORT', '8000') + '/healthz'; sys.exit(0 if u.urlopen(url, timeout=4, context=ssl._create_unverified_context() if tls else None).status == 200 else 1)"]

CMD ["ambtenaar", "serve", "--host", "0.0.0.0"]
