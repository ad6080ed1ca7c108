# syntax=docker/dockerfile:1
#
# safecontact's container image: one static binary on distroless.
#
#   docker build --build-arg VERSION=v1.2.0 -t safecontact:v1.2.0 .
#
# VERSION is what `safecontact version` prints and what the
# safecontact_build_info metric carries in its version label. The commit
# label reads "unknown" in this image: .git is not sent to the build (see
# .dockerignore), so tag images with the release they hold.

FROM golang:1.26 AS build
WORKDIR /src
# Modules first, so a change to the code alone does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
# Static, so it runs without libc. Europe/London's time zone data is built
# into the binary (package flows imports time/tzdata), so the service does
# not depend on the image's /usr/share/zoneinfo.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/safecontact ./cmd/safecontact

# distroless static, nonroot variant: CA certificates (Twilio's and
# Slack's HTTPS APIs, rediss://) and tzdata, no shell, no package manager,
# user nonroot (uid 65532).
FROM gcr.io/distroless/static-debian13:nonroot
COPY --from=build /out/safecontact /safecontact
USER 65532:65532
EXPOSE 8080
# No HEALTHCHECK: the image has no shell and no curl to run one, and
# safecontact has no health-check subcommand. Let the orchestrator probe
# GET /healthz (the process is up) and GET /readyz (Redis answers)
# instead, as deploy/kubernetes/deployment.yaml does.
ENTRYPOINT ["/safecontact"]
CMD ["serve"]
