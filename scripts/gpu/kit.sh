#!/usr/bin/env bash
# Builds build/gpu-kit/: everything a GPU machine without Java or Maven needs to run the GPU suite and the
# GPU bench: a jlink'ed Java runtime, the project's classes and test classes, the JUnit console launcher,
# the bench's dependencies, (when ../shared/tools/libfabric-cuda exists) a CUDA-enabled libfabric, and the C
# baseline fi_write_bench (when gcc and libfabric's headers are here).
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
# The C baseline (benchmarks/native), prebuilt for `gpu --baseline-binary` and `compare --baseline-binary`: the GPU
# machine has no libfabric-dev. Built against this machine's libfabric 1.17 headers (the CUDA-enabled build in
# libfabric-cuda is 1.17.0 too and ships no headers); it links libfabric.so.1, and `gpu` preloads the kit's
# CUDA-enabled file in its place. -ldl for dlopen("libcuda.so.1") on glibc before 2.34.
if command -v gcc > /dev/null && [ -f /usr/include/rdma/fabric.h ]; then
  gcc -O2 -Wall -o "$KIT/fi_write_bench" benchmarks/native/fi_write_bench.c -lfabric -lpthread -ldl
else
  echo "gpu kit: no gcc or libfabric headers here, so no $KIT/fi_write_bench (apt-get install gcc libfabric-dev)" >&2
fi
cp scripts/gpu/test.sh scripts/gpu/bench.sh scripts/gpu/kit-env.sh "$KIT/"
du -sh "$KIT"
