#!/usr/bin/env bash
# Command 1 of the README: install, build, bring the local stack up and run a real job end to
# end on examples/cardio.csv — upload, train, detect — then print the top anomalies, the
# anomaly rate and the Temporal UI link. The stack keeps running; scripts/stack-down.sh stops it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/.."
started=$(date +%s)

"$here/install.sh"
"$here/stack-up.sh"
source "${NOMALY_DATA_DIR:-.nomaly}/stack.env"

nomaly() { node dist/client/cli.js "$@"; }
field() { node -p "JSON.parse(require('fs').readFileSync(0, 'utf8'))$1"; } # field .path <<<"$json"

echo
echo "== 1/3 upload examples/cardio.csv"
dataset_id="$(nomaly datasets upload examples/cardio.csv --json | field .id)"
echo "dataset $dataset_id"
echo
echo "== 2/3 train an Isolation Forest (model 'cardio')"
model_json="$(nomaly train --dataset "$dataset_id" --model cardio --contamination 0.1 --param seed=42 --wait --json)"
version="$(field .version <<<"$model_json")"
echo "model cardio@$version: threshold $(field '.threshold.toFixed(4)' <<<"$model_json"), ROC-AUC on held-out rows $(field '.metrics.heldOutRocAuc.toFixed(3)' <<<"$model_json")"
echo
echo "== 3/3 detect anomalies in every row with cardio@$version"
nomaly detect --model "cardio@$version" --dataset "$dataset_id" --chunk-rows 500 --wait
echo
echo "quickstart finished in $(( $(date +%s) - started ))s. The stack is still running:"
echo "  Temporal UI     $TEMPORAL_UI_URL"
echo "  CLI             node dist/client/cli.js --help   (env: source $NOMALY_DATA_DIR/stack.env)"
echo "  stop it with    ./scripts/stack-down.sh"
