#!/usr/bin/env bash
# Validates the deploy/ manifests offline, as make test does: the Kubernetes objects with
# kubernetes-validate --strict (PyPI, bundled schemas, no cluster), the Argo Rollouts
# AnalysisTemplate with the @kubernetes-models/argo-rollouts models (npm). Each validator is
# also shown a broken copy it must refuse, so a validator that accepts anything fails here.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${TOOLS_VENV:-$(pwd)/.tools/venv}"
node_tools="${NODE_TOOLS:-$(pwd)/.tools/node}"
fail() { echo "validate-manifests: $*" >&2; exit 1; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

"$venv/bin/kubernetes-validate" --strict --quiet deploy/kubernetes/*.yaml \
  || fail "kubernetes-validate --strict refused deploy/kubernetes/"
sed 's/completionMode: Indexed/completionsMode: Indexed/' deploy/kubernetes/load-indexed-job.yaml > "$scratch/broken-job.yaml"
if "$venv/bin/kubernetes-validate" --strict --quiet "$scratch/broken-job.yaml" >/dev/null 2>&1; then
  fail "kubernetes-validate accepted a Job with an unknown field (completionsMode): the check cannot fail"
fi

NODE_TOOLS="$node_tools" node scripts/validate-argo.mjs deploy/argo-rollouts/*.yaml \
  || fail "the Argo Rollouts models refused deploy/argo-rollouts/"
sed 's/- name: release-gates/- title: release-gates/' deploy/argo-rollouts/analysis-template.yaml > "$scratch/broken-analysis.yaml"
if NODE_TOOLS="$node_tools" node scripts/validate-argo.mjs "$scratch/broken-analysis.yaml" >/dev/null 2>&1; then
  fail "the Argo Rollouts models accepted a metric without its required name: the check cannot fail"
fi
echo "validate-manifests: deploy/kubernetes and deploy/argo-rollouts are valid; broken copies are refused"
