# The Aegis Flink image: Flink 2.2 with PyFlink, the connector jars pinned in flink-conf/pom.xml,
# flink-python on the cluster classpath, and this repository installed (jobs, udfs, connectors).
FROM maven:3.9-eclipse-temurin-17 AS jars
COPY flink-conf/pom.xml /build/pom.xml
RUN mvn -q -B -f /build/pom.xml -P flink-connectors dependency:copy-dependencies -DoutputDirectory=/jars

FROM flink:2.2.1-java17
RUN apt-get update && apt-get install -y --no-install-recommends python3.11 python3.11-venv python3-pip \
    && rm -rf /var/lib/apt/lists/* && ln -sf /usr/bin/python3.11 /usr/bin/python
COPY --from=jars /jars/ /opt/flink/lib/
RUN cp /opt/flink/opt/flink-python-*.jar /opt/flink/lib/
COPY . /opt/aegis
RUN python -m pip install --no-cache-dir --break-system-packages /opt/aegis
ENV AEGIS_STATE_DIR=/opt/flink/state
WORKDIR /opt/aegis
