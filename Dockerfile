# One image with the three binaries (bot, worker, migrate); compose picks the
# command. Multi-stage: the toolchain stays in the build stage.

FROM rust:1.95-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends pkg-config libopus-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p bot -p worker -p migrations \
    && mkdir -p /out \
    && cp target/release/bot target/release/worker target/release/migrate /out/

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libopus0 curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home app
COPY --from=build /out/ /usr/local/bin/
USER app
ENV LOG_FORMAT=json \
    HTTP_ADDR=0.0.0.0:8080
EXPOSE 8080
CMD ["bot"]
