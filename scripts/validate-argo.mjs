// Validates Argo Rollouts objects offline with the published models
// (@kubernetes-models/argo-rollouts): types and required fields. The packages live in a
// project-local folder (NODE_TOOLS, default .tools/node), so they are loaded from there.
// Usage: node validate-argo.mjs FILE... ; exit 1 naming the file and the problem.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const tools = path.resolve(process.env.NODE_TOOLS || '.tools/node');
const require = createRequire(path.join(tools, 'package.json'));
const YAML = require('yaml');
const models = path.join(tools, 'node_modules/@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1');
const { AnalysisTemplate } = await import(pathToFileURL(path.join(models, 'AnalysisTemplate.js')).href);

let failed = false;
for (const file of process.argv.slice(2)) {
  for (const document of YAML.parseAllDocuments(fs.readFileSync(file, 'utf8'))) {
    const object = document.toJS();
    if (!object) continue;
    try {
      if (object.kind !== 'AnalysisTemplate') throw new Error(`unexpected kind ${object.kind}`);
      new AnalysisTemplate(object).validate();
      console.log(`${file}: ${object.kind}/${object.metadata.name} is valid`);
    } catch (error) {
      failed = true;
      console.error(`${file}: ${String(error.message || error).split('\n')[0]}`);
    }
  }
}
process.exit(failed ? 1 : 0);
