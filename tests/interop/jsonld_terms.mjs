// Expands JSON-LD documents the way a JSON-LD reader (Fedify, here) does, with the contexts Fedify ships preloaded
// (nothing is fetched), and reports every term a document uses that its @context does not define: the
// ActivityStreams context maps such terms to blank-node IRIs ("_:term"), which a JSON-LD reader cannot interpret.
// Input on stdin: {"name": document, ...}; output: [{"name", "ok", "undefined_terms"}]. PEERS_DIR names the Fedify
// peer harness folder whose node_modules hold jsonld and @fedify/vocab-runtime.
import { createRequire } from "node:module";
const peers = process.env.PEERS_DIR;
const require = createRequire(peers + "/package.json");
const jsonld = require("jsonld");
const { preloadedContexts } = await import(peers + "/node_modules/@fedify/vocab-runtime/dist/mod.js");
let input = "";
for await (const chunk of process.stdin) input += chunk;
const docs = JSON.parse(input);
const loader = async (url) => {
  if (url in preloadedContexts) return { contextUrl: null, documentUrl: url, document: preloadedContexts[url] };
  throw new Error(`context not preloaded: ${url}`);
};
const out = [];
for (const [name, doc] of Object.entries(docs)) {
  try {
    const expanded = await jsonld.expand(doc, { documentLoader: loader, safe: true });
    const undefinedTerms = new Set();
    const walk = (v) => {
      if (Array.isArray(v)) { v.forEach(walk); return; }
      if (v && typeof v === "object") {
        for (const [k, x] of Object.entries(v)) {
          if (k.startsWith("_:")) undefinedTerms.add(k.slice(2));
          if (k === "@type") for (const t of [].concat(x)) if (String(t).startsWith("_:")) undefinedTerms.add(String(t).slice(2));
          walk(x);
        }
      }
    };
    walk(expanded);
    out.push({ name, ok: undefinedTerms.size === 0, undefined_terms: [...undefinedTerms].sort() });
  }
  catch (e) { out.push({ name, ok: false, error: String(e.message ?? e), details: JSON.stringify(e.details ?? {}).slice(0, 500) }); }
}
console.log(JSON.stringify(out));
