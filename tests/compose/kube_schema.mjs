// Validate Kubernetes manifests against the API's OpenAPI schemas, with the
// validators of the npm package kubernetes-models (generated from the
// Kubernetes OpenAPI spec).  Input on stdin: a JSON array of
// {"file": NAME, "doc": OBJECT} (tests/compose/run.sh converts the YAML);
// argv[2]: the node_modules directory holding kubernetes-models.
// Prints "FILE: ok" or "FILE: ERROR..." per document; exits 1 on any error.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { join } from "node:path";

const modules = process.argv[2];
const docs = JSON.parse(readFileSync(0, "utf8"));
let failed = 0;
for (const { file, doc } of docs) {
  const [group, version] = doc.apiVersion.includes("/")
    ? doc.apiVersion.split("/")
    : ["", doc.apiVersion];
  const path = join(modules, "kubernetes-models", group, version, `${doc.kind}.js`);
  let model;
  try {
    model = await import(pathToFileURL(path).href);
  } catch (e) {
    console.log(`${file}: no schema for ${doc.apiVersion} ${doc.kind} (${e.message})`);
    failed++;
    continue;
  }
  const Model = model[doc.kind] ?? model.default;
  try {
    new Model(doc).validate();
    console.log(`${file}: ok (${doc.apiVersion} ${doc.kind})`);
  } catch (e) {
    console.log(`${file}: ${e.message}`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
