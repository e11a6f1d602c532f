# gpuprice container image: a static binary on distroless, run as non-root.
#
#   docker build -t gpuprice --build-arg VERSION=$(git describe --tags --always --dirty) --build-arg REVISION=$(git rev-parse HEAD) .
#   docker run -p 9847:9847 -v gpuprice-data:/data gpuprice        # serve deploy/gpuprice.yml, as shipped
#   docker run -p 9847:9847 -v $PWD/gpuprice.yml:/etc/gpuprice/gpuprice.yml:ro -v gpuprice-data:/data gpuprice
#                                                                  # serve your configuration
#
# The configuration is always /etc/gpuprice/gpuprice.yml (the shipped
# deploy/gpuprice.yml unless a file is mounted there); the history is in the
# /data volume. Arguments are appended to `serve` (--log.level=debug, ...).
# The HEALTHCHECK is the binary itself probing /-/healthy (no curl in the
# image). deploy/docker-compose.yml runs it with Prometheus and Grafana.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG REVISION=unknown
# The same version ldflags as the Makefile's; CGO off: the SQLite driver is
# pure Go, so the binary is static and runs on distroless/static.
RUN CGO_ENABLED=0 go build -trimpath -o /out/gpuprice \
      -ldflags "-s -w \
        -X github.com/prometheus/common/version.Version=${VERSION} \
        -X github.com/prometheus/common/version.Revision=${REVISION} \
        -X github.com/prometheus/common/version.Branch=docker \
        -X github.com/prometheus/common/version.BuildDate=$(date -u +%Y%m%d-%H:%M:%S)" \
      ./cmd/gpuprice \
 && mkdir -p /out/data \
 && /out/gpuprice check-config deploy/gpuprice.yml

# distroless/static: CA certificates, tzdata and a nonroot user (65532), no
# shell or package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/gpuprice /usr/local/bin/gpuprice
COPY deploy/gpuprice.yml /etc/gpuprice/gpuprice.yml
# /data belongs to the nonroot user, so a fresh named volume mounted there
# is writable.
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
VOLUME ["/data"]
EXPOSE 9847
# Healthy once the daemon answers /-/healthy on its port; a daemon behind
# --web.config.file (TLS, basic auth) needs the probe's flags changed:
# gpuprice healthcheck --server.url=https://user:password@localhost:9847 --tls.insecure-skip-verify
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/usr/local/bin/gpuprice", "healthcheck", "--server.url=http://localhost:9847", "--timeout=4s"]
ENTRYPOINT ["/usr/local/bin/gpuprice", "serve", "--storage.path=/data", "--config.file=/etc/gpuprice/gpuprice.yml"]
