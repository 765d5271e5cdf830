# Sourced by ./cortado and ./run-tests: sets JAVA_HOME to a JDK >= 25, or explains what to install.
# Order: $JAVA_HOME, then the usual install folders (Debian/Ubuntu /usr/lib/jvm, /opt, SDKMAN).

cortado_java_major() { # prints the major version of the java binary $1
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | head -n 1
}

cortado_find_jdk() {
  local want=25 candidate major
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/* /opt/java/* /opt/jdk* "$HOME"/.sdkman/candidates/java/*; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] && [ -x "$candidate/bin/javac" ] || continue
    major=$(cortado_java_major "$candidate/bin/java")
    if [ -n "$major" ] && [ "${major%%.*}" -ge "$want" ] 2>/dev/null; then
      export JAVA_HOME="$candidate"
      return 0
    fi
  done
  cat >&2 <<MSG
Cortado needs a JDK $want or newer and found none (looked at JAVA_HOME and /usr/lib/jvm, /opt, ~/.sdkman).
Install one, for example Temurin $want (https://adoptium.net, Debian/Ubuntu package temurin-$want-jdk)
or your distribution's openjdk-$want-jdk, or point JAVA_HOME at an installed JDK $want+.
MSG
  return 1
}
