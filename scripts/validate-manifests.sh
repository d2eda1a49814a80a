#!/usr/bin/env bash
# Validates the deploy/ manifests offline, as make test does: the Kubernetes objects with
# kubernetes-validate --strict (PyPI, bundled schemas, no cluster), k6-operator's TestRun
# against its CRD schema (scripts/validate-crd.py), the Argo Rollouts AnalysisTemplate with the
# @kubernetes-models/argo-rollouts models (npm). Each validator is
# also shown a broken copy it must refuse, so a validator that accepts anything fails here.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${TOOLS_VENV:-$(pwd)/.tools/venv}"
node_tools="${NODE_TOOLS:-$(pwd)/.tools/node}"
fail() { echo "validate-manifests: $*" >&2; exit 1; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

"$venv/bin/kubernetes-validate" --strict --quiet deploy/kubernetes/*.yaml deploy/k6-operator/check-job.yaml \
  || fail "kubernetes-validate --strict refused deploy/kubernetes/ or deploy/k6-operator/check-job.yaml"
sed 's/completionMode: Indexed/completionsMode: Indexed/' deploy/kubernetes/load-indexed-job.yaml > "$scratch/broken-job.yaml"
if "$venv/bin/kubernetes-validate" --strict --quiet "$scratch/broken-job.yaml" >/dev/null 2>&1; then
  fail "kubernetes-validate accepted a Job with an unknown field (completionsMode): the check cannot fail"
fi

# k6-operator's TestRun is a custom resource: checked against the CRD's own schema (vendored in
# fixtures/k6-operator/), strictly, as the API server would with --validate=strict.
testrun_schema=fixtures/k6-operator/testrun-v1alpha1.schema.json
"$venv/bin/python" scripts/validate-crd.py "$testrun_schema" k6.io/v1alpha1 TestRun deploy/k6-operator/testrun.yaml >/dev/null \
  || fail "the k6-operator TestRun schema refused deploy/k6-operator/testrun.yaml"
sed 's/^  parallelism: /  paralelism: /' deploy/k6-operator/testrun.yaml > "$scratch/broken-testrun.yaml"
if "$venv/bin/python" scripts/validate-crd.py "$testrun_schema" k6.io/v1alpha1 TestRun "$scratch/broken-testrun.yaml" >/dev/null 2>&1; then
  fail "the TestRun schema accepted an unknown field (paralelism): the check cannot fail"
fi

NODE_TOOLS="$node_tools" node scripts/validate-argo.mjs deploy/argo-rollouts/*.yaml \
  || fail "the Argo Rollouts models refused deploy/argo-rollouts/"
sed 's/- name: release-gates/- title: release-gates/' deploy/argo-rollouts/analysis-template.yaml > "$scratch/broken-analysis.yaml"
if NODE_TOOLS="$node_tools" node scripts/validate-argo.mjs "$scratch/broken-analysis.yaml" >/dev/null 2>&1; then
  fail "the Argo Rollouts models accepted a metric without its required name: the check cannot fail"
fi
echo "validate-manifests: deploy/kubernetes, deploy/k6-operator and deploy/argo-rollouts are valid; broken copies are refused"
