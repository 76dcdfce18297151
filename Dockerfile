# isms-bridge container image: two stages, the final one without compilers or build tools.
#
#   docker build -t isms-bridge .
#   docker run --rm -v "$PWD/configs/compose.toml:/etc/isms-bridge/bridge.toml:ro" \
#       -e ESME1_SMPP_PASSWORD=... -e ISMS_PASSWORD=... -p 2775:2775 -p 9102:9102 isms-bridge
#
# Config: a TOML file mounted at /etc/isms-bridge/bridge.toml (read-only is fine).
# Secrets: environment variables named by the config's password_env / isms_password_env keys
# (or files mounted beside the config, named by password_file). Nothing secret is baked in.
# In the config, listen on 0.0.0.0 ([smpp] host, [metrics] host) so the published ports
# reach the bridge; the HEALTHCHECK (`isms-bridge healthcheck`) reads [metrics] from the same
# file and asks /healthz there. State: the volume /var/lib/isms-bridge, writable by the
# unprivileged user, so the container runs with a read-only root (`--read-only`).
#
# PYTHON_IMAGE: any Debian-based image with python3 (>= 3.11) and its venv module, `python`
# on PATH (tests/deploy/test_image.py builds one with debootstrap where no registry answers).

ARG PYTHON_IMAGE=python:3.12-slim-bookworm

# --- build: a virtual environment with isms-bridge and its dependencies (binary wheels) ---
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bridge ./bridge
# pip (and the setuptools Python 3.11's venv adds) go once the install is done: the final
# stage copies this environment, and an installer is not needed to run.
RUN python -m venv /opt/isms-bridge \
    && /opt/isms-bridge/bin/pip install --no-cache-dir . \
    && /opt/isms-bridge/bin/python -m pip uninstall --yes --quiet pip setuptools

# --- run: the interpreter, the virtual environment, an unprivileged user; nothing else ---
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="isms-bridge" \
      org.opencontainers.image.description="SMPP 3.4 server forwarding messages to the iSMS HTTP gateway" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 isms \
    && useradd --system --uid 10001 --gid isms --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin isms \
    && install -d -o 10001 -g 10001 -m 0750 /var/lib/isms-bridge
COPY --from=build /opt/isms-bridge /opt/isms-bridge
# STATE_DIRECTORY (as systemd's StateDirectory= sets it): [state] path, relative by default,
# lands on the volume below, so a config needs no path of its own here.
ENV PATH="/opt/isms-bridge/bin:${PATH}" \
    STATE_DIRECTORY=/var/lib/isms-bridge \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
WORKDIR /etc/isms-bridge
# The state the bridge keeps between runs; a named volume starts as this empty, owned folder.
VOLUME ["/var/lib/isms-bridge"]
# 2775: SMPP ([smpp] port); 9102: /metrics, /healthz, /readyz ([metrics] port).
EXPOSE 2775 9102
# The probe reads [metrics] host/port from the config, so a moved metrics port stays healthy.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["isms-bridge", "healthcheck", "--config", "/etc/isms-bridge/bridge.toml"]
# SIGTERM: graceful stop (answer in-flight submits, unbind, exit 0), as `docker stop` sends.
STOPSIGNAL SIGTERM
ENTRYPOINT ["isms-bridge"]
CMD ["serve", "--config", "/etc/isms-bridge/bridge.toml"]
