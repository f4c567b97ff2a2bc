# shellcheck shell=bash
# Sourced by the GPU kit's test.sh and bench.sh: sets KIT_CLASSES (the kit's class folders, those matching
# $1 left out), KIT_JARS (its third-party jars but the JUnit launcher), KIT_PROPS (JVM flags for the kit's
# CUDA-enabled libfabric, when it has one) and the environment that libfabric needs.
KIT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ -x "$KIT/jre/bin/java" ] || { echo "gpu kit: no runtime at $KIT/jre (build the kit with ./te gpu-kit)" >&2; exit 1; }
KIT_CLASSES=$(find "$KIT/classes" -mindepth 1 -maxdepth 1 -type d ! -name "${1:-none}" | sort | tr '\n' ':')
KIT_JARS=$(find "$KIT/lib" -name '*.jar' ! -name 'junit-platform-console-standalone*' | tr '\n' ':')
KIT_PROPS=()
# The CUDA-enabled libfabric: its libfabric.so.1 may arrive as a text file naming the real one (a symlink that
# did not survive a copy), so point at the versioned file. It dlopens libcuda.so and libcudart.so at run time.
LIBFABRIC=$(find "$KIT/libfabric-cuda/lib" -name 'libfabric.so.1.*' -type f 2>/dev/null | head -n 1)
if [ -n "$LIBFABRIC" ]; then
  KIT_PROPS+=("-Dte.libfabric.library=$LIBFABRIC")
  [ -d /usr/local/cuda/lib64 ] && export LD_LIBRARY_PATH=/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
export IPATH_NO_BACKTRACE=1
