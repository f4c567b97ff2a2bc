#!/usr/bin/env bash
# Builds build/gpu-kit/: everything a GPU machine without Java or Maven needs to run the GPU suite and the
# GPU bench: a jlink'ed Java runtime, the project's classes and test classes, the JUnit console launcher,
# the bench's dependencies, and (when ../shared/tools/libfabric-cuda exists) a CUDA-enabled libfabric.
# Called by `./te gpu-kit` after te_setup (JAVA_HOME set, Maven found).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
KIT=build/gpu-kit
JUNIT_CONSOLE=org.junit.platform:junit-platform-console-standalone:1.14.4

mvn -B -q -Dstyle.color=never ${TE_MVN_ARGS:-} -DskipTests install
rm -rf "$KIT"
mkdir -p "$KIT/classes" "$KIT/lib"
for m in transfer-api transfer-cuda transfer-core transfer-efa transfer-verbs transfer-kits benchmarks; do
  cp -r "$m/target/classes" "$KIT/classes/$m"
  [ -d "$m/target/test-classes" ] && cp -r "$m/target/test-classes" "$KIT/classes/$m-tests"
done
# The bench's and tests' third-party jars (picocli, HdrHistogram, Gson, JMH), and the JUnit console launcher.
mvn -B -q -Dstyle.color=never ${TE_MVN_ARGS:-} -pl benchmarks dependency:copy-dependencies \
  -DincludeScope=runtime -DexcludeGroupIds=dev.transferengine -DexcludeArtifactIds=error_prone_annotations -DoutputDirectory="$PWD/$KIT/lib"
mvn -B -q -Dstyle.color=never ${TE_MVN_ARGS:-} dependency:copy -Dartifact=$JUNIT_CONSOLE \
  -DoutputDirectory="$PWD/$KIT/lib" -Dmdep.stripVersion=true
"$JAVA_HOME/bin/jlink" --add-modules java.base,java.logging,java.management,jdk.unsupported,jdk.jfr,jdk.management,jdk.zipfs \
  --strip-debug --no-header-files --no-man-pages --compress=zip-6 --output "$KIT/jre"
if [ -d ../shared/tools/libfabric-cuda/lib ]; then
  cp -r ../shared/tools/libfabric-cuda "$KIT/libfabric-cuda"
fi
cp scripts/gpu/test.sh scripts/gpu/bench.sh scripts/gpu/kit-env.sh "$KIT/"
du -sh "$KIT"
