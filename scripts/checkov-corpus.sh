#!/bin/sh
# Runs Checkov over the policy corpus and records its verdicts for the checks the built-in pack
# carries, as Tests/Fixtures/policy-corpus/checkov-verdicts.json: {file: {check id: PASSED|FAILED}}.
# A check Checkov does not run on a file (a kind it leaves out) is absent. The Swift test
# PolicyCorpusTests compares the pack's verdicts with this file.
#
#   python3 -m venv /opt/checkov-venv && /opt/checkov-venv/bin/pip install checkov
#   CHECKOV=/opt/checkov-venv/bin/checkov scripts/checkov-corpus.sh
set -eu
checkov=${CHECKOV:-checkov}
corpus=Tests/Fixtures/policy-corpus
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$checkov" -d "$corpus" --framework kubernetes -o json --compact --skip-download >"$out" 2>/dev/null || true
ids=$(grep -ho 'windlass.dev/check-id: CKV_K8S_[0-9]*' policies/*.yaml | sed 's/.*: //' | sort -u | tr '\n' ' ')
python3 - "$out" "$corpus/checkov-verdicts.json" $ids <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
ids = set(sys.argv[3:])
verdicts = {}
for key, result in (("passed_checks", "PASSED"), ("failed_checks", "FAILED")):
    for check in report["results"][key]:
        if check["check_id"] in ids:
            file = check["file_path"].rsplit("/", 1)[-1]
            verdicts.setdefault(file, {})[check["check_id"]] = result
with open(sys.argv[2], "w") as f:
    json.dump({k: dict(sorted(v.items())) for k, v in sorted(verdicts.items())}, f, indent=1)
    f.write("\n")
print(f"{sum(len(v) for v in verdicts.values())} verdicts on {len(verdicts)} files, {len(ids)} checks")
PY
