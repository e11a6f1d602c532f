# gpuprice container image: a static binary on distroless, run as non-root.
#
#   docker build -t gpuprice --build-arg VERSION=$(git describe --tags --always --dirty) --build-arg REVISION=$(git rev-parse HEAD) .
#   docker run -p 9847:9847 -v gpuprice-data:/data gpuprice                     # serve on built-in defaults
#   docker run -p 9847:9847 -v $PWD/gpuprice.yml:/etc/gpuprice/gpuprice.yml:ro -v gpuprice-data:/data \
#     gpuprice --config.file=/etc/gpuprice/gpuprice.yml                        # serve a config file
#
# deploy/docker-compose.yml runs it with Prometheus and Grafana.

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
 && mkdir -p /out/data

# distroless/static: CA certificates, tzdata and a nonroot user (65532), no
# shell or package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/gpuprice /usr/local/bin/gpuprice
# /data belongs to the nonroot user, so a fresh named volume mounted there
# is writable.
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
VOLUME ["/data"]
EXPOSE 9847
ENTRYPOINT ["/usr/local/bin/gpuprice", "serve", "--storage.path=/data"]
