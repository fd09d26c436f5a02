#!/usr/bin/env bash
# Installs Debian's Chromium and ChromeDriver for the dashboard's browser tests and sets
# ATTUNE_REQUIRE_BROWSER=1, so that the test fails rather than skips if they are missing.
# Sourced by .ci/run.
browser_setup() {
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  if ! { command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; }; then
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >/dev/null
  fi
  export ATTUNE_REQUIRE_BROWSER=1
  echo "$(chromium --version 2>/dev/null) with $(chromedriver --version 2>/dev/null | cut -d' ' -f1-2)"
}
browser_setup
