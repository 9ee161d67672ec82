# Builds the project and runs the sampling server on the models in /app/Models.
#   docker build -t biggan .
#   docker run --rm -p 8080:8080 biggan            # then: curl 'localhost:8080/v1/sample?class=Bag&seed=1'
# The request log lives in /app/data (mount a volume there to keep it).
# Checked by scripts/docker_check.sh (build, start, sample every model, restart on the volume; docs/SCALING.md).
ARG SWIFT_VERSION=6.3
FROM swift:${SWIFT_VERSION}-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libopenblas-dev libdnnl-dev libpng-dev libmicrohttpd-dev libsqlite3-dev zlib1g-dev pkgconf \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release \
 && mkdir -p /out/bin \
 && for p in biggan biggan-bench biggan-server biggan-train; do cp "$(swift build -c release --show-bin-path)/$p" /out/bin/; done

FROM debian:bookworm-slim
# dataset-fashion-mnist: the training images that neighbour lookups (/v1/neighbours) search.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libopenblas0-pthread libdnnl2 libgomp1 libpng16-16 libmicrohttpd12 libsqlite3-0 zlib1g \
    libcurl4 libxml2 tzdata ca-certificates dataset-fashion-mnist \
 && rm -rf /var/lib/apt/lists/*
# The Swift runtime libraries the binaries link against.
COPY --from=build /usr/lib/swift/linux/*.so /usr/lib/swift/linux/
ENV LD_LIBRARY_PATH=/usr/lib/swift/linux
COPY --from=build /out/bin/ /usr/local/bin/
WORKDIR /app
COPY Models ./Models
COPY public ./public
RUN mkdir -p /app/data
EXPOSE 8080
CMD ["biggan-server", "--host", "0.0.0.0", "--port", "8080", "--db", "/app/data/requests.sqlite"]
