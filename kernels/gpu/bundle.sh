#!/usr/bin/env bash
# Builds the self-contained bundle that kernels/gpu/check.sh runs on a GPU machine with no Java:
# a jlinked Java runtime, the verticles module and its dependencies (the kernels among them), the test
# classes of the kernels and of the pipeline, and the JUnit console launcher, in kernels/target/gpu-bundle. Run it here, then carry that folder to the GPU
# machine together with the repository and run kernels/gpu/check.sh there.
#
# Left out to keep the bundle small (under 64 MB): oneDNN's natives (CPU convolutions fall back to im2col + GEMM, which
# the GPU tests compare against anyway), OpenBLAS's LAPACK bindings (Cortado binds cblas_sgemm only) and
# jcuda's runtime/NVRTC/PTX-compiler libraries (only the driver binding is used).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$root/bin/find-jdk.sh"
cortado_find_jdk
out=$root/kernels/target/gpu-bundle
cd "$root"
mvn -B -q install -DskipTests -pl engine,kernels,web-dashboard,verticles
(cd kernels && mvn -B -q test-compile)
(cd verticles && mvn -B -q test-compile)
rm -rf "$out"
mkdir -p "$out/lib"
(cd verticles && mvn -B -q dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$out/lib")
cp verticles/target/cortado.jar "$out/lib/"
cp -r kernels/target/test-classes "$out/test-classes"
cp -r verticles/target/test-classes "$out/pipeline-test-classes"
rm -f "$out"/lib/dnnl-*-linux-x86_64.jar
# The pipeline test runs one process, no cluster and no dashboard: their libraries stay behind.
rm -f "$out"/lib/hazelcast-*.jar "$out"/lib/vertx-hazelcast-*.jar "$out"/lib/protobuf-java-*.jar \
  "$out"/lib/cytoscape-*.jar "$out"/lib/uplot-*.jar
slim() {  # slim JAR FIND-ARGS...: deletes the matching files from the jar
  local jar=$1 dir
  shift
  dir=$(mktemp -d)
  (cd "$dir" && "$JAVA_HOME/bin/jar" xf "$jar" && find . -type f \( "$@" \) -delete)
  rm "$jar"
  "$JAVA_HOME/bin/jar" --create --no-compress --file "$jar" -C "$dir" .
  rm -rf "$dir"
}
slim "$(ls "$out"/lib/jcuda-natives-*.jar)" -path './lib/*' ! -name 'libJCudaDriver-*'
slim "$(ls "$out"/lib/openblas-*-linux-x86_64.jar)" -name 'libjniopenblas.so' -o -name 'libjniopenblas_full.so' \
  -o -path '*/include/*'
console=$(find "$HOME/.m2/repository/org/junit/platform/junit-platform-console-standalone" -name '*.jar' | sort | tail -1)
if [ -z "$console" ]; then
  mvn -B -q dependency:get -Dartifact=org.junit.platform:junit-platform-console-standalone:1.13.4
  console=$(find "$HOME/.m2/repository/org/junit/platform/junit-platform-console-standalone" -name '*.jar' | sort | tail -1)
fi
cp "$console" "$out/junit-console.jar"
"$JAVA_HOME/bin/jlink" --add-modules java.base,java.desktop,java.logging,java.management,java.net.http,java.sql,jdk.unsupported \
  --strip-debug --no-header-files --no-man-pages --output "$out/java"
tar -C "$out/.." -cf - gpu-bundle | xz -T2 -6 >"$out.tar.xz"
du -sh "$out" "$out.tar.xz"
