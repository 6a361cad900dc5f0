# syntax=docker/dockerfile:1
# One image per edition:
#   docker build --build-arg EDITION=core -t streamspace/streamspace-core:0.1.0 .
# (`bun run image <edition>` builds the same image without a daemon, with buildah.)
#
# Stage 1 compiles the edition executable (`bun run build:edition`) and stages
# the runtime root filesystem with scripts/image.ts: the executable, the glibc
# libraries it links (Bun's executables are dynamic glibc programs, so no musl /
# Alpine, and `scratch` alone would not start), the CA bundle, /etc/passwd with
# `nonroot` (65532) and an empty /data for it. Stage 2 is that root filesystem
# on `scratch`: no shell, no package manager, no Xvnc (desktops run as their own
# workloads) — the contents of a distroless base, built from Debian's own files.
ARG BUN_VERSION=1.4.5

FROM oven/bun:${BUN_VERSION}-debian AS build
ARG EDITION=community
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN bun install --frozen-lockfile
RUN bun scripts/image.ts "${EDITION}" --rootfs-only --out /out \
 && mv "/out/rootfs-${EDITION}" /rootfs

FROM scratch
ARG EDITION=community
COPY --from=build /rootfs/ /
# COPY does not keep the build stage's owners: the volume's directory is nonroot's.
COPY --from=build --chown=65532:65532 /rootfs/data /data
ENV HOST=0.0.0.0 PORT=8080 STREAMSPACE_DATA_DIR=/data
USER 65532:65532
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
STOPSIGNAL SIGTERM
# The executable asks its own /readyz (the image has no curl).
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
  CMD ["/usr/local/bin/streamspace", "healthcheck"]
LABEL org.opencontainers.image.title="StreamSpace ${EDITION}" \
      org.opencontainers.image.version="0.1.0"
ENTRYPOINT ["/usr/local/bin/streamspace"]
