# syntax=docker/dockerfile:1
# tuneloop orchestrator: REST on :8080, Kafka, S3. No DJL, no GPU variant.
# Build from the repository root (unverified here: no Docker engine on the build machine):
#   docker build -f deploy/docker/orchestrator.Dockerfile -t tuneloop-orchestrator:0.1.0 .

ARG MODULE=orchestrator

FROM eclipse-temurin:17-jdk-jammy AS build
ARG MODULE
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.m2 ./mvnw -B -q -pl ${MODULE} -am package -DskipTests \
    && test -f ${MODULE}/target/quarkus-app/quarkus-run.jar

FROM eclipse-temurin:17-jre-jammy AS runtime
ARG MODULE
RUN groupadd --system --gid 10001 tuneloop \
    && useradd --system --uid 10001 --gid 10001 --home-dir /app --shell /usr/sbin/nologin tuneloop
# application files stay owned by root: the process cannot change them
COPY --from=build /src/${MODULE}/target/quarkus-app/ /app/
ENV QUARKUS_HTTP_PORT=8080 \
    JDK_JAVA_OPTIONS="-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError"
VOLUME ["/tmp"]
WORKDIR /app
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["java", "-Djava.io.tmpdir=/tmp", "-jar", "/app/quarkus-run.jar"]
