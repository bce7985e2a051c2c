# The irctl image for the incident-manager toolbox and the daily page-test CronJob
# (deploy/README.md): docker build -t ghcr.io/modulo/irctl:0.1.0 .
# Non-root, no writable root filesystem needed: page-test records go to the mounted volume
# /var/lib/irctl, keys come from the pagerduty-secrets Secret mounted at /etc/pagerduty.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN apt-get update \
 && apt-get install -y --no-install-recommends tzdata \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.lock pyproject.toml ./
RUN pip install -r requirements.lock
# The org config travels with the image: `irctl page-test --stack prod` reads config/prod.yaml.
COPY __main__.py Pulumi.yaml Pulumi.prod.yaml ./
# The original runbook's `kubectl exec -it deploy/incident-manager -n incident-response --
# python test_paging.py`: a thin entry to `irctl page-test`, run from WORKDIR /app.
COPY test_paging.py ./
COPY orgconfig orgconfig
COPY oncall oncall
COPY alerts alerts
COPY components components
COPY deploy deploy
COPY learning learning
COPY sandbox sandbox
COPY statuspage statuspage
COPY policy policy
COPY iac iac
COPY irctl irctl
COPY config config
COPY docs docs
RUN pip install --no-deps . \
 && useradd --system --uid 10001 --no-create-home --home-dir /tmp irctl

USER 10001:10001
ENV HOME=/tmp
ENTRYPOINT ["irctl"]
CMD ["--help"]
