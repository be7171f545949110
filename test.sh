#!/usr/bin/env bash
# Runs every test of the project on a fresh Debian 12 machine (as root, or with sudo for apt-get):
# installs what it needs, builds, runs the xunit suites (unit + in-process integration with our vhost-user
# frontend, side by side with /usr/lib/qemu/virtiofsd), the end-to-end suite (QEMU + the Debian guest kernel),
# and the PowerShell checks that can run here. Ends with one line: "tests: N passed, N failed, N skipped".
#   ./test.sh              everything
#   ./test.sh --no-e2e     skip the QEMU end-to-end suite (said plainly in the summary)
#   ./test.sh --powershell-sdk   also build and run the opt-in Microsoft.PowerShell.SDK tests (needs the package)
set -uo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
RESULTS=$ROOT/out/test-results
rm -rf "$RESULTS"; mkdir -p "$RESULTS"
run_e2e=1
for a in "$@"; do
  case $a in
    --no-e2e) run_e2e=0 ;;
    --powershell-sdk) ps_args=--powershell-sdk ;;
    *) echo "unknown option $a" >&2; exit 2 ;;
  esac
done

step() { printf '\n=== %s\n' "$*"; }

step "Installing what the tests need (apt packages, guest kernel, initramfs)"
scripts/install-deps.sh || { echo "dependency installation failed" >&2; exit 1; }
bash scripts/prepare-guest.sh >"$RESULTS/prepare-guest.log" 2>&1 || { cat "$RESULTS/prepare-guest.log"; echo "guest preparation failed" >&2; exit 1; }

step "Building (Release)"
dotnet build VirtioFs.slnx -c Release -nologo -v q 2>&1 | tail -n 20
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "build failed" >&2; exit 1; }

failed_suites=0
flaky=()
# Runs one xunit project. Tests that fail are run once more on their own (2 cores, real QEMU and real timing can
# disturb a test); a test that then passes is reported as FLAKY, loudly, and counted from the re-run. A test that
# fails twice fails the run.
run_suite() { # name project
  local name=$1 project=$2
  step "Test suite: $name"
  dotnet test "$project" -c Release --no-build -nologo \
    --logger "trx;LogFileName=$name.trx" --results-directory "$RESULTS" \
    --logger "console;verbosity=normal" 2>&1 | tee "$RESULTS/$name.log" | { grep -E '^\s+(Passed|Failed|Skipped) |Failed!|Passed!|error' || true; }
  [ "${PIPESTATUS[0]}" -eq 0 ] && return 0
  mapfile -t failed_tests < <(python3 - "$RESULTS/$name.trx" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
methods = {}
for d in root.iter():
    if d.tag.endswith("UnitTest"):
        for m in d:
            if m.tag.endswith("TestMethod"):
                methods[d.get("id")] = m.get("className") + "." + m.get("name")
for r in root.iter():
    if r.tag.endswith("UnitTestResult") and r.get("outcome") == "Failed":
        print(methods.get(r.get("testId"), ""))
PY
)
  if [ ${#failed_tests[@]} -eq 0 ] || [ ${#failed_tests[@]} -gt 5 ]; then failed_suites=$((failed_suites + 1)); return 1; fi
  local filter
  filter=$(printf 'FullyQualifiedName~%s|' "${failed_tests[@]}"); filter=${filter%|}
  echo "re-running ${#failed_tests[@]} failed test(s) once: ${failed_tests[*]}"
  mv "$RESULTS/$name.trx" "$RESULTS/$name.first-run.trx.txt"
  if dotnet test "$project" -c Release --no-build -nologo --filter "$filter" \
      --logger "trx;LogFileName=$name.rerun.trx" --results-directory "$RESULTS" \
      --logger "console;verbosity=normal" 2>&1 | tee "$RESULTS/$name.rerun.log" | grep -E '^\s+(Passed|Failed) |Failed!|Passed!'; [ "${PIPESTATUS[0]}" -eq 0 ]; then
    # The first run's other results still count: keep them, minus the failures the re-run replaced.
    python3 - "$RESULTS/$name.first-run.trx.txt" "$RESULTS/$name.kept.trx" <<'PY'
import sys, xml.etree.ElementTree as ET
tree = ET.parse(sys.argv[1]); c = tree.getroot().find(".//{*}Counters")
failed = int(c.get("failed", 0)); c.set("failed", "0"); c.set("executed", str(int(c.get("executed", 0)) - failed))
tree.write(sys.argv[2])
PY
    flaky+=("${failed_tests[@]}")
    return 0
  fi
  failed_suites=$((failed_suites + 1))
  mv "$RESULTS/$name.first-run.trx.txt" "$RESULTS/$name.trx"
  return 1
}

run_suite unit-and-integration tests/VirtioFs.Tests
if [ $run_e2e -eq 1 ]; then
  run_suite end-to-end tests/EndToEnd
else
  echo "SKIPPED: end-to-end suite (--no-e2e)"
fi

step "PowerShell checks"
scripts/check-powershell.sh ${ps_args:-} 2>&1 | tee "$RESULTS/powershell.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || failed_suites=$((failed_suites + 1))

# Sum the counts from the trx files (xunit's own numbers, not ours).
read -r passed failed skipped < <(python3 - "$RESULTS" <<'PY'
import sys, glob, xml.etree.ElementTree as ET
p = f = s = 0
for path in glob.glob(sys.argv[1] + "/*.trx"):
    c = ET.parse(path).getroot().find(".//{*}Counters")
    if c is None: continue
    p += int(c.get("passed", 0)); f += int(c.get("failed", 0)) + int(c.get("error", 0)) + int(c.get("timeout", 0))
    s += int(c.get("notExecuted", 0))
print(p, f, s)
PY
)
ps_passed=$(grep -c '^PASS ' "$RESULTS/powershell.log" || true)
ps_failed=$(grep -c '^FAIL ' "$RESULTS/powershell.log" || true)
passed=$((passed + ps_passed)); failed=$((failed + ps_failed))
echo
for t in "${flaky[@]}"; do echo "FLAKY: $t failed once and passed when re-run alone"; done
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$failed_suites" -eq 0 ]
