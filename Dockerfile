# Builds the project from source and runs the `biggan` tools (and, once it lands, the server).
#   docker build -t biggan .
#   docker run --rm -v "$PWD/out:/out" biggan biggan sample --model /app/Models/<model>.safetensors --class 0 --n 16 --out /out/grid.png
FROM swift:6.0-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libopenblas-dev libpng-dev libmicrohttpd-dev libsqlite3-dev pkgconf \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --product biggan && swift build -c release --product biggan-bench \
 && mkdir -p /out/bin && cp "$(swift build -c release --show-bin-path)"/biggan* /out/bin/

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libopenblas0-pthread libpng16-16 libmicrohttpd12 libsqlite3-0 \
    libcurl4 libxml2 tzdata ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# The Swift runtime libraries the binaries link against.
COPY --from=build /usr/lib/swift/linux/*.so /usr/lib/swift/linux/
ENV LD_LIBRARY_PATH=/usr/lib/swift/linux
COPY --from=build /out/bin/ /usr/local/bin/
WORKDIR /app
COPY Models ./Models
COPY public ./public
CMD ["biggan", "--help"]
