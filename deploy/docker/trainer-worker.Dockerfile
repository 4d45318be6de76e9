# syntax=docker/dockerfile:1
# tuneloop trainer worker: consumes training requests, fine-tunes with DJL/PyTorch, uploads checkpoints to S3.
# Build from the repository root (unverified here: no Docker engine on the build machine):
#   docker build -f deploy/docker/trainer-worker.Dockerfile --target cpu -t tuneloop-trainer-worker:0.1.0 .
#   docker build -f deploy/docker/trainer-worker.Dockerfile --target gpu -t tuneloop-trainer-worker:0.1.0-gpu .
# Both variants: non-root user 10001, JVM heap sized from the container's memory limit (JDK_JAVA_OPTIONS),
# DJL offline with its native cache on a writable volume (DJL_CACHE_DIR), read-only root filesystem friendly.

ARG MODULE=trainer-worker

FROM eclipse-temurin:17-jdk-jammy AS build
ARG MODULE
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.m2 ./mvnw -B -q -pl ${MODULE} -am package -DskipTests \
    && test -f ${MODULE}/target/quarkus-app/quarkus-run.jar

# GPU natives: DJL downloads the CUDA build of PyTorch while the image is built (the image build has network;
# the pods run with ai.djl.offline=true and never download).
FROM build AS gpu-natives
ARG MODULE
ARG PYTORCH_VERSION=2.7.1
ARG PYTORCH_FLAVOR=cu128
RUN mkdir -p /opt/djl-download \
    && DJL_CACHE_DIR=/opt/djl-download PYTORCH_VERSION=${PYTORCH_VERSION} PYTORCH_FLAVOR=${PYTORCH_FLAVOR} \
       java -Dai.djl.offline=false \
         -cp "$(find ${MODULE}/target/quarkus-app/lib -name '*.jar' | tr '\n' ':')" deploy/docker/FetchNatives.java \
    && natives="$(dirname "$(find /opt/djl-download/pytorch -name 'libtorch_cuda.so' | head -n 1)")" \
    && test -f "${natives}/libtorch_cuda.so" \
    && mv "${natives}" /opt/pytorch-natives

FROM eclipse-temurin:17-jre-jammy AS cpu
ARG MODULE
RUN groupadd --system --gid 10001 tuneloop \
    && useradd --system --uid 10001 --gid 10001 --home-dir /app --shell /usr/sbin/nologin tuneloop \
    && mkdir -p /var/cache/djl /var/cache/tuneloop/models \
    && chown 10001:10001 /var/cache/djl /var/cache/tuneloop/models
# application files stay owned by root: the process cannot change them
COPY --from=build /src/${MODULE}/target/quarkus-app/ /app/
ENV DJL_CACHE_DIR=/var/cache/djl \
    DJL_OFFLINE=true \
    OMP_WAIT_POLICY=ACTIVE \
    GOMP_SPINCOUNT=1000 \
    MKL_CBWR=AUTO,STRICT \
    HF_HOME=/var/cache/tuneloop/models/hf \
    TUNELOOP_DEVICE=cpu \
    QUARKUS_HTTP_PORT=8080 \
    JDK_JAVA_OPTIONS="-XX:MaxRAMPercentage=40 -XX:+ExitOnOutOfMemoryError"
VOLUME ["/var/cache/djl", "/var/cache/tuneloop/models", "/tmp"]
WORKDIR /app
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["java", "-Dai.djl.offline=true", "-Djava.io.tmpdir=/tmp", "-jar", "/app/quarkus-run.jar"]

FROM cpu AS gpu
ARG PYTORCH_VERSION=2.7.1
ARG PYTORCH_FLAVOR=cu128
COPY --from=gpu-natives /opt/pytorch-natives/ /opt/pytorch-natives/
# DJL loads libtorch from PYTORCH_LIBRARY_PATH (read-only, in the image) and unpacks only its JNI glue
# (from the pytorch-jni jar, which ships the cu128 build) into DJL_CACHE_DIR.
ENV PYTORCH_LIBRARY_PATH=/opt/pytorch-natives \
    PYTORCH_VERSION=${PYTORCH_VERSION} \
    PYTORCH_FLAVOR=${PYTORCH_FLAVOR} \
    TUNELOOP_DEVICE=gpu \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
